# Packages: two Debian packages and a .tar.gz (cpack -G DEB / -G TGZ in the build folder):
#  - tenfold-cli: tenfold-cli and tenfold-server (and tenfold-worker when built), no Qt;
#  - tenfold: the desktop app, its desktop entry, GGUF file type, icons and AppStream data; it
#    depends on tenfold-cli (the Server page starts tenfold-server).
# Library dependencies come from dpkg-shlibdeps; Qt's SQLite driver is a plugin the binaries do
# not link, so it is named by hand. Versions come from project(VERSION) in CMakeLists.txt.
include(GNUInstallDirs)
set(TENFOLD_MAINTAINER "Tenfold maintainers <maintainers@tenfold.invalid>" CACHE STRING
    "Debian Maintainer field of the packages (set it to a real address for a release)")

set(TENFOLD_PACKAGE_DIR "${CMAKE_BINARY_DIR}/package-files")
# Debian wants every package's changelog and copyright in /usr/share/doc/PACKAGE, compressed with
# gzip -n (no time stamp) like the man pages.
find_program(TENFOLD_GZIP gzip)
function(tenfold_gzip_file in out)
  add_custom_command(OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${TENFOLD_PACKAGE_DIR}/doc"
    COMMAND sh -c "${TENFOLD_GZIP} -9 -n -c '${in}' > '${out}'"
    DEPENDS "${in}" VERBATIM)
endfunction()
tenfold_gzip_file("${CMAKE_SOURCE_DIR}/installers/linux/changelog" "${TENFOLD_PACKAGE_DIR}/doc/changelog.gz")
add_custom_target(tenfold_package_docs ALL DEPENDS "${TENFOLD_PACKAGE_DIR}/doc/changelog.gz")
# (Linux only: the macOS disk image carries the app bundle alone.)
foreach(pkg_comp IN ITEMS "tenfold-cli;cli" "tenfold;gui")
  if(APPLE)
    break()
  endif()
  list(GET pkg_comp 0 pkg)
  list(GET pkg_comp 1 comp)
  install(FILES "${TENFOLD_PACKAGE_DIR}/doc/changelog.gz" "${CMAKE_SOURCE_DIR}/installers/linux/copyright"
          DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/doc/${pkg}" COMPONENT ${comp})
endforeach()
find_package(Python3 COMPONENTS Interpreter)
# Man pages from each program's own --help, at build time.
if(Python3_FOUND AND TARGET tenfold-cli AND TARGET tenfold-server)
  set(man "${TENFOLD_PACKAGE_DIR}/man")
  add_custom_command(
    OUTPUT "${man}/tenfold-cli.1.gz" "${man}/tenfold-server.1.gz"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${man}"
    COMMAND ${Python3_EXECUTABLE} "${CMAKE_SOURCE_DIR}/installers/linux/tools/gen_manpage.py"
            $<TARGET_FILE:tenfold-cli> tenfold-cli 1 "run, quantize and measure GGUF language models" "${man}/tenfold-cli.1" --commands
    COMMAND ${Python3_EXECUTABLE} "${CMAKE_SOURCE_DIR}/installers/linux/tools/gen_manpage.py"
            $<TARGET_FILE:tenfold-server> tenfold-server 1 "OpenAI-compatible server with continuous batching" "${man}/tenfold-server.1"
    COMMAND ${TENFOLD_GZIP} -9 -n -f "${man}/tenfold-cli.1" "${man}/tenfold-server.1"
    DEPENDS tenfold-cli tenfold-server "${CMAKE_SOURCE_DIR}/installers/linux/tools/gen_manpage.py"
    COMMENT "Man pages from --help")
  add_custom_target(tenfold_man_pages ALL DEPENDS "${man}/tenfold-cli.1.gz" "${man}/tenfold-server.1.gz")
  if(NOT APPLE)
    install(FILES "${man}/tenfold-cli.1.gz" "${man}/tenfold-server.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1" COMPONENT cli)
  endif()
endif()

if(TARGET tenfold AND APPLE)
  # The bundle's icon: tenfold.svg rendered at every iconset size, packed by iconutil.
  find_package(Qt6 REQUIRED COMPONENTS Svg Gui)
  add_executable(tenfold_render_icons "${CMAKE_SOURCE_DIR}/installers/linux/tools/render_icons.cpp")
  target_link_libraries(tenfold_render_icons PRIVATE Qt6::Gui Qt6::Svg)
  find_program(TENFOLD_ICONUTIL iconutil REQUIRED)
  set(iconset "${TENFOLD_PACKAGE_DIR}/tenfold.iconset")
  set(icns "${TENFOLD_PACKAGE_DIR}/tenfold.icns")
  set(copies "")
  foreach(pair IN ITEMS "16;16x16" "32;16x16@2x" "32;32x32" "64;32x32@2x" "128;128x128" "256;128x128@2x"
                        "256;256x256" "512;256x256@2x" "512;512x512" "1024;512x512@2x")
    list(GET pair 0 px)
    list(GET pair 1 name)
    list(APPEND copies COMMAND ${CMAKE_COMMAND} -E copy "${TENFOLD_PACKAGE_DIR}/icons/${px}x${px}/tenfold.png"
                               "${iconset}/icon_${name}.png")
  endforeach()
  add_custom_command(OUTPUT "${icns}"
    COMMAND tenfold_render_icons "${CMAKE_SOURCE_DIR}/installers/linux/tenfold.svg" "${TENFOLD_PACKAGE_DIR}/icons"
            16 32 64 128 256 512 1024
    COMMAND ${CMAKE_COMMAND} -E make_directory "${iconset}"
    ${copies}
    COMMAND ${TENFOLD_ICONUTIL} -c icns -o "${icns}" "${iconset}"
    DEPENDS tenfold_render_icons "${CMAKE_SOURCE_DIR}/installers/linux/tenfold.svg"
    COMMENT "tenfold.icns from tenfold.svg")
  target_sources(tenfold PRIVATE "${icns}")
  set_source_files_properties("${icns}" TARGET_DIRECTORY tenfold PROPERTIES MACOSX_PACKAGE_LOCATION Resources)
endif()

if(TARGET tenfold AND NOT APPLE)
  set(linux "${CMAKE_SOURCE_DIR}/installers/linux")
  install(FILES "${linux}/tenfold.desktop" DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/applications" COMPONENT gui)
  install(FILES "${linux}/tenfold-gguf.xml" DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/mime/packages" COMPONENT gui)
  install(FILES "${linux}/io.github.tenfold.Tenfold.metainfo.xml" DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/metainfo"
          COMPONENT gui)
  install(FILES "${linux}/tenfold.svg" DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/icons/hicolor/scalable/apps"
          COMPONENT gui)
  find_package(Qt6 COMPONENTS Svg Gui)
  if(Qt6Svg_FOUND)
    add_executable(tenfold_render_icons "${linux}/tools/render_icons.cpp")
    target_link_libraries(tenfold_render_icons PRIVATE Qt6::Gui Qt6::Svg)
    set(sizes 16 22 24 32 48 64 128 256 512)
    set(pngs "")
    foreach(s IN LISTS sizes)
      list(APPEND pngs "${TENFOLD_PACKAGE_DIR}/icons/${s}x${s}/tenfold.png")
    endforeach()
    add_custom_command(OUTPUT ${pngs}
      COMMAND tenfold_render_icons "${linux}/tenfold.svg" "${TENFOLD_PACKAGE_DIR}/icons" ${sizes}
      DEPENDS tenfold_render_icons "${linux}/tenfold.svg" COMMENT "Icons from tenfold.svg")
    add_custom_target(tenfold_icons ALL DEPENDS ${pngs})
    foreach(s IN LISTS sizes)
      install(FILES "${TENFOLD_PACKAGE_DIR}/icons/${s}x${s}/tenfold.png"
              DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/icons/hicolor/${s}x${s}/apps" COMPONENT gui)
    endforeach()
  endif()
  if(Python3_FOUND)
    set(man "${TENFOLD_PACKAGE_DIR}/man")
    add_custom_command(OUTPUT "${man}/tenfold.1.gz"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${man}"
      COMMAND ${Python3_EXECUTABLE} "${CMAKE_SOURCE_DIR}/installers/linux/tools/gen_manpage.py"
              $<TARGET_FILE:tenfold> tenfold 1 "desktop workbench for local language models" "${man}/tenfold.1"
      COMMAND ${TENFOLD_GZIP} -9 -n -f "${man}/tenfold.1"
      DEPENDS tenfold "${CMAKE_SOURCE_DIR}/installers/linux/tools/gen_manpage.py" COMMENT "Man page of tenfold")
    add_custom_target(tenfold_gui_man_page ALL DEPENDS "${man}/tenfold.1.gz")
    install(FILES "${man}/tenfold.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1" COMPONENT gui)
  endif()
endif()

set(CPACK_PACKAGE_NAME "tenfold")
set(CPACK_PACKAGE_VENDOR "Tenfold")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
# No CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPackDeb would put it before each package's own summary
# (the first line of CPACK_DEBIAN_<COMPONENT>_DESCRIPTION).
set(CPACK_PACKAGE_CONTACT "${TENFOLD_MAINTAINER}")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "tenfold")
set(CPACK_GENERATOR "DEB;TGZ")
if(APPLE)
  # A disk image with Tenfold.app (the command-line programs inside it) to drag to Applications.
  set(CPACK_GENERATOR "DragNDrop")
  set(CPACK_DMG_VOLUME_NAME "Tenfold ${PROJECT_VERSION}")
  set(CPACK_DMG_FORMAT UDZO)
  set(CPACK_PACKAGE_FILE_NAME "tenfold-${PROJECT_VERSION}-macos-${CMAKE_SYSTEM_PROCESSOR}")
endif()
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_FILE_NAME "tenfold-${PROJECT_VERSION}-${CMAKE_SYSTEM_PROCESSOR}")
set(CPACK_COMPONENTS_ALL cli)
if(TARGET tenfold)
  list(APPEND CPACK_COMPONENTS_ALL gui)
endif()
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_ARCHIVE_COMPONENT_INSTALL OFF) # one .tar.gz with everything

set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${TENFOLD_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_CLI_PACKAGE_NAME "tenfold-cli")
set(CPACK_DEBIAN_CLI_PACKAGE_SECTION "science")
string(CONCAT CPACK_DEBIAN_CLI_DESCRIPTION "command-line tools and server for local GGUF language models\n"
    "tenfold-cli runs, quantizes, evaluates and benchmarks GGUF language models\n"
    "on the CPU or a Vulkan GPU; tenfold-server serves them over an\n"
    "OpenAI-compatible HTTP API with continuous batching and prefix caching.\n"
    "Neither needs Qt.")
set(CPACK_DEBIAN_CLI_PACKAGE_RECOMMENDS "mesa-vulkan-drivers | vulkan-icd")
set(CPACK_DEBIAN_GUI_PACKAGE_NAME "tenfold")
set(CPACK_DEBIAN_GUI_PACKAGE_SECTION "science")
string(CONCAT CPACK_DEBIAN_GUI_DESCRIPTION "desktop workbench for local GGUF language models\n"
    "Chat with GGUF models that run on your own computer, see what each\n"
    "answer costs, and make models cheaper to run with quantization wizards\n"
    "that measure the quality they cost.")
set(CPACK_COMPONENT_GUI_DEPENDS cli)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON) # the component dependency becomes a Depends
set(CPACK_DEBIAN_GUI_PACKAGE_DEPENDS "libqt6sql6-sqlite")
set(CPACK_DEBIAN_GUI_PACKAGE_RECOMMENDS "mesa-vulkan-drivers | vulkan-icd, fonts-noto-cjk")

set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/")
include(CPack)
