; Tenfold's Windows installer (NSIS 3, 64-bit). Built by scripts/build-windows.sh:
;   makensis -DVERSION=0.1.0 -DSTAGE=<folder with the programs> -DOUTFILE=<setup.exe> tenfold.nsi
; STAGE holds tenfold-cli.exe and, where that build made them, tenfold-server.exe, tenfold.exe
; (the desktop app with its Qt DLLs from windeployqt: the native Windows workflow) and docs.
; Per-user or all-users install (MultiUser), Start-menu entries, an uninstaller registered in
; Apps & features, the .gguf file type, and an optional PATH entry.
; Silent: setup.exe /S [/CurrentUser|/AllUsers] [/AddToPath] [/D=DIR] (/D last, unquoted).

Unicode true
Target amd64-unicode
ManifestDPIAware true
SetCompressor /SOLID lzma

!ifndef VERSION
  !error "pass -DVERSION=x.y.z"
!endif
!ifndef STAGE
  !error "pass -DSTAGE=folder with the Windows programs"
!endif
!ifndef OUTFILE
  !define OUTFILE "tenfold-${VERSION}-windows-x86_64-setup.exe"
!endif

!define PRODUCT "Tenfold"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Tenfold"
!define PROGID "Tenfold.GGUF"

!define MULTIUSER_EXECUTIONLEVEL Highest
!define MULTIUSER_MUI
!define MULTIUSER_INSTALLMODE_COMMANDLINE
!define MULTIUSER_USE_PROGRAMFILES64
!define MULTIUSER_INSTALLMODE_INSTDIR "Tenfold"
!define MULTIUSER_INSTALLMODE_DEFAULT_CURRENTUSER
!include MultiUser.nsh
!include MUI2.nsh
!include LogicLib.nsh
!include StrFunc.nsh
!include WinMessages.nsh
!include x64.nsh
!include FileFunc.nsh
!include Sections.nsh
${UnStrRep}

Name "${PRODUCT} ${VERSION}"
OutFile "${OUTFILE}"
BrandingText "${PRODUCT} ${VERSION}"
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${PRODUCT} installer"
VIAddVersionKey "LegalCopyright" "Tenfold contributors"

!define MUI_ABORTWARNING
!insertmacro MUI_PAGE_WELCOME
!insertmacro MULTIUSER_PAGE_INSTALLMODE
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "SimpChinese"

Function un.onInit
  !insertmacro MULTIUSER_UNINIT
FunctionEnd

; The PATH of the install mode's scope: HKCU\Environment, or the machine's for all users.
!macro ReadPath OUT
  ${If} $MultiUser.InstallMode == "AllUsers"
    ReadRegStr ${OUT} HKLM "SYSTEM\CurrentControlSet\Control\Session Manager\Environment" "Path"
  ${Else}
    ReadRegStr ${OUT} HKCU "Environment" "Path"
  ${EndIf}
!macroend
!macro WritePath VALUE
  ${If} $MultiUser.InstallMode == "AllUsers"
    WriteRegExpandStr HKLM "SYSTEM\CurrentControlSet\Control\Session Manager\Environment" "Path" "${VALUE}"
  ${Else}
    WriteRegExpandStr HKCU "Environment" "Path" "${VALUE}"
  ${EndIf}
  SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=2000
!macroend

Section "!Tenfold programs" SecPrograms
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "${STAGE}\tenfold-cli.exe"
  File /nonfatal "${STAGE}\tenfold-server.exe"
  File /nonfatal "${STAGE}\tenfold.exe"
  File /nonfatal /r "${STAGE}\*.dll"
  File /nonfatal /r "${STAGE}\platforms"
  File /nonfatal /r "${STAGE}\sqldrivers"
  File /nonfatal /r "${STAGE}\styles"
  File /nonfatal /r "${STAGE}\translations"
  File /nonfatal "${STAGE}\README.md"
  File /nonfatal "${STAGE}\LICENSE.txt"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; Apps & features
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "Publisher" "Tenfold contributors"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe" /$MultiUser.InstallMode'
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /$MultiUser.InstallMode /S'
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "NoRepair" 1
  ${If} ${FileExists} "$INSTDIR\tenfold.exe"
    WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\tenfold.exe"
  ${EndIf}
SectionEnd

Section "Start menu entries" SecStartMenu
  CreateDirectory "$SMPROGRAMS\${PRODUCT}"
  ${If} ${FileExists} "$INSTDIR\tenfold.exe"
    CreateShortcut "$SMPROGRAMS\${PRODUCT}\${PRODUCT}.lnk" "$INSTDIR\tenfold.exe"
  ${EndIf}
  ; A console in the install folder, for the command-line programs.
  CreateShortcut "$SMPROGRAMS\${PRODUCT}\${PRODUCT} command prompt.lnk" "$SYSDIR\cmd.exe" \
      '/k "cd /d "$INSTDIR" && tenfold-cli.exe --help"' "$SYSDIR\cmd.exe" 0
  CreateShortcut "$SMPROGRAMS\${PRODUCT}\Uninstall ${PRODUCT}.lnk" "$INSTDIR\uninstall.exe" "/$MultiUser.InstallMode"
SectionEnd

Section "Open .gguf files with Tenfold" SecAssociate
  ; The desktop app opens a model; without it, Explorer's Open shows the file's summary in a console.
  WriteRegStr SHCTX "Software\Classes\.gguf" "" "${PROGID}"
  WriteRegStr SHCTX "Software\Classes\.gguf" "Content Type" "application/x-gguf"
  WriteRegStr SHCTX "Software\Classes\${PROGID}" "" "GGUF model"
  ${If} ${FileExists} "$INSTDIR\tenfold.exe"
    WriteRegStr SHCTX "Software\Classes\${PROGID}\DefaultIcon" "" "$INSTDIR\tenfold.exe,0"
    WriteRegStr SHCTX "Software\Classes\${PROGID}\shell\open\command" "" '"$INSTDIR\tenfold.exe" "%1"'
  ${Else}
    WriteRegStr SHCTX "Software\Classes\${PROGID}\shell\open\command" "" \
        '"$SYSDIR\cmd.exe" /k ""$INSTDIR\tenfold-cli.exe" inspect "%1""'
  ${EndIf}
  WriteRegStr SHCTX "Software\Classes\${PROGID}\shell\inspect" "" "Inspect with tenfold-cli"
  WriteRegStr SHCTX "Software\Classes\${PROGID}\shell\inspect\command" "" \
      '"$SYSDIR\cmd.exe" /k ""$INSTDIR\tenfold-cli.exe" inspect "%1""'
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)' ; SHCNE_ASSOCCHANGED
SectionEnd

Section /o "Add the programs to PATH" SecPath
  Var /GLOBAL oldPath
  !insertmacro ReadPath $oldPath
  ${If} $oldPath == ""
    !insertmacro WritePath "$INSTDIR"
  ${Else}
    !insertmacro WritePath "$oldPath;$INSTDIR"
  ${EndIf}
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "AddedToPath" 1
SectionEnd

LangString DESC_Programs ${LANG_ENGLISH} "tenfold-cli (and tenfold-server and the desktop app where this build has them)."
LangString DESC_Programs ${LANG_SIMPCHINESE} "tenfold-cli（以及此版本包含的 tenfold-server 和桌面应用）。"
LangString DESC_StartMenu ${LANG_ENGLISH} "Shortcuts in the Start menu."
LangString DESC_StartMenu ${LANG_SIMPCHINESE} "在开始菜单中创建快捷方式。"
LangString DESC_Associate ${LANG_ENGLISH} "Open GGUF model files (.gguf) with Tenfold."
LangString DESC_Associate ${LANG_SIMPCHINESE} "用 Tenfold 打开 GGUF 模型文件（.gguf）。"
LangString DESC_Path ${LANG_ENGLISH} "Run tenfold-cli from any command prompt."
LangString DESC_Path ${LANG_SIMPCHINESE} "可在任意命令提示符中运行 tenfold-cli。"
!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecPrograms} $(DESC_Programs)
  !insertmacro MUI_DESCRIPTION_TEXT ${SecStartMenu} $(DESC_StartMenu)
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAssociate} $(DESC_Associate)
  !insertmacro MUI_DESCRIPTION_TEXT ${SecPath} $(DESC_Path)
!insertmacro MUI_FUNCTION_DESCRIPTION_END

; After the sections, whose ids it uses. /AddToPath selects the PATH entry in a silent install.
Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "Tenfold needs 64-bit Windows." /SD IDOK
    Abort
  ${EndIf}
  StrCpy $R2 $INSTDIR ; from /D=, which MULTIUSER_INIT would replace with the mode's default
  !insertmacro MULTIUSER_INIT
  ${If} $R2 != ""
    StrCpy $INSTDIR $R2
  ${EndIf}
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/AddToPath" $R1
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${SecPath}
  ${EndIf}
FunctionEnd

Section "Uninstall"
  ; PATH: remove exactly the entry the installer added.
  ReadRegDWORD $0 SHCTX "${UNINSTALL_KEY}" "AddedToPath"
  ${If} $0 == 1
    !insertmacro ReadPath $1
    ${UnStrRep} $1 $1 ";$INSTDIR" ""
    ${UnStrRep} $1 $1 "$INSTDIR;" ""
    ${UnStrRep} $1 $1 "$INSTDIR" ""
    !insertmacro WritePath $1
  ${EndIf}

  ; The file type, only while it is still ours.
  ReadRegStr $0 SHCTX "Software\Classes\.gguf" ""
  ${If} $0 == "${PROGID}"
    DeleteRegKey SHCTX "Software\Classes\.gguf"
  ${EndIf}
  DeleteRegKey SHCTX "Software\Classes\${PROGID}"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'

  Delete "$SMPROGRAMS\${PRODUCT}\*.lnk"
  RMDir "$SMPROGRAMS\${PRODUCT}"

  Delete "$INSTDIR\tenfold-cli.exe"
  Delete "$INSTDIR\tenfold-server.exe"
  Delete "$INSTDIR\tenfold.exe"
  Delete "$INSTDIR\*.dll"
  RMDir /r "$INSTDIR\platforms"
  RMDir /r "$INSTDIR\sqldrivers"
  RMDir /r "$INSTDIR\styles"
  RMDir /r "$INSTDIR\translations"
  Delete "$INSTDIR\README.md"
  Delete "$INSTDIR\LICENSE.txt"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR" ; only if empty: the user's own files (models) stay

  DeleteRegKey SHCTX "${UNINSTALL_KEY}"
SectionEnd
