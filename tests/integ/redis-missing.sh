#!/bin/sh
# redis-missing.sh - runs in place of the Redis store tests when the build has no hiredis.
echo "*** SKIP: configure found no hiredis, or was given --without-redis (apt-get install"
echo "*** libhiredis-dev redis-server); the Redis store is NOT built and NOT tested"
exit 77
