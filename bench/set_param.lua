-- wrk script: /set_param load on one synthcast stream, with a changing freq.
--
--   wrk -t2 -c100 -d10s -s bench/set_param.lua http://127.0.0.1:PORT -- ID
--   SYNTHCAST_ID=ID wrk -t2 -c100 -d10s -s bench/set_param.lua http://127.0.0.1:PORT
--
-- ID is a token from /create_stream. Each thread preformats 64 requests with
-- freq drawn from 100..2000 Hz and rotates through them, so the script costs
-- wrk almost nothing per request. When wrk finishes, done() prints one JSON
-- line (after wrk's own report) with the same names as `bench control`:
-- {"tool":"wrk","requests":…,"duration_s":…,"rps":…,"latency_ms":{"p50":…,
-- "p99":…,"max":…},"non_2xx":…,"errors":…}.

local variants = 64
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  local id = args[1] or os.getenv("SYNTHCAST_ID")
  if id == nil or id == "" then
    io.stderr:write("set_param.lua: give the stream id: wrk ... -s set_param.lua URL -- ID (or SYNTHCAST_ID=ID)\n")
    os.exit(2)
  end
  math.randomseed(1000 + (tid or 0))
  reqs = {}
  for i = 1, variants do
    reqs[i] = wrk.format("GET", "/set_param?id=" .. id .. "&freq=" .. math.random(100, 2000))
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
