// Package redistest runs real redis-server processes for tests: a
// standalone server (StartRedis, RedisMain for a TestMain), a Sentinel
// group (StartSentinelGroup) and a Cluster (StartCluster), each on free
// ports, never 6379. Where no redis-server is installed it falls back to
// miniredis, unless GATEHOUSE_REQUIRE_REDIS asks for the real one.
package redistest
