#pragma once
// The command lines ship as one program (busybox-style): `sscep` is the
// binary, `scep-client` and `cmp-client` links to it, and the name it is started under
// picks the command line. One copy of OpenSSL glue, the SCEP core and the
// transport serves both, which is what the router's flash budget needs.

namespace scepd::cli {

int SscepMain(int argc, char** argv);        // cli/sscep_main.cc
int ScepClientMain(int argc, char** argv);   // cli/scep_client_main.cc
int CmpClientMain(int argc, char** argv);    // cli/cmp_client_main.cc

}  // namespace scepd::cli
