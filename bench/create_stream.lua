-- wrk script: /create_stream load, each stream with a different freq.
--
--   wrk -t2 -c100 -d10s -s bench/create_stream.lua http://127.0.0.1:PORT [-- 'k=v&k2=v2']
--
-- The optional argument is extra query parameters for every stream. Every
-- request creates a stream: past the server's -max-streams (default 10000)
-- the answers are 503, which wrk counts as non-2xx; start the server with a
-- larger -max-streams (or a short -stream-ttl) to measure creation alone.
-- Each thread preformats 64 requests and rotates through them. done() prints
-- one JSON line like set_param.lua's.

local variants = 64
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  local extra = args[1] or ""
  if extra ~= "" then
    extra = "&" .. extra
  end
  math.randomseed(2000 + (tid or 0))
  reqs = {}
  for i = 1, variants do
    reqs[i] = wrk.format("GET", "/create_stream?freq=" .. math.random(100, 2000) .. extra)
  end
  n = 0
end

function request()
  n = n % variants + 1
  return reqs[n]
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    '{"tool":"wrk","requests":%d,"duration_s":%.3f,"rps":%.1f,"latency_ms":{"p50":%.3f,"p99":%.3f,"max":%.3f},"non_2xx":%d,"errors":%d}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
