#!/bin/sh
# pg-missing.sh - runs in place of the PostgreSQL tests when configure found no libpq.
echo "*** SKIP: configure found no libpq (apt-get install libpq-dev postgresql);"
echo "*** PostgreSQL capture is NOT built and NOT tested"
exit 77
