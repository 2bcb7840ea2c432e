#!/bin/sh
# missing-tools.sh - runs in place of the tests that configure could not build: Check or libcurl
# was missing, so the unit and integration tests written with them are not in this build. That
# is a failure, not a pass with fewer tests (tools/deps.sh --tests installs both).
echo "*** FAIL: configure found no Check and/or no libcurl (apt-get install check libcurl4-openssl-dev);"
echo "*** the unit and integration tests that use them were NOT built or run"
exit 1
