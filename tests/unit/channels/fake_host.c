/* The fake host of tests/support, compiled as one unit without check and
 * without the event loop, for the api_body fuzzer (tests/fuzz), which builds
 * this file into its instrumented program.  The unit tests link the
 * sbr-fake-host library instead. */
#define FAKE_HOST_STANDALONE 1
#include "../../support/fake_host.c"
#include "../../support/fake_conn.c"
#include "../../support/fake_http.c"
#include "../../support/fake_state.c"
