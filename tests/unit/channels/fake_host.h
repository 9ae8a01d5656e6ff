/* For the api_body fuzzer, which finds the fake host here (see fake_host.c). */
#include "../../support/fake_host.h"
