# Packages: a Debian .deb and a plain .tar.gz (cpack -G DEB / cpack -G TGZ from the build folder).
# The desktop entry and icon come from installers/linux.
include(GNUInstallDirs)
if(TARGET tenfold)
  install(FILES "${CMAKE_SOURCE_DIR}/installers/linux/tenfold.desktop"
          DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/applications")
  install(FILES "${CMAKE_SOURCE_DIR}/installers/linux/tenfold.svg"
          DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/icons/hicolor/scalable/apps")
endif()

set(CPACK_PACKAGE_NAME "tenfold")
set(CPACK_PACKAGE_VENDOR "Tenfold")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Run GGUF language models locally: chat app and command-line tools")
set(CPACK_PACKAGE_CONTACT "Tenfold maintainers <tenfold@example.org>")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "tenfold")
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_FILE_NAME "tenfold-${PROJECT_VERSION}-${CMAKE_SYSTEM_PROCESSOR}")

set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Library dependencies (Qt, SQLite, the Vulkan loader) are computed from the binaries by
# dpkg-shlibdeps; the Vulkan drivers and the CJK font are only recommended.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libvulkan1, mesa-vulkan-drivers, fonts-noto-cjk")

set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/")
include(CPack)
