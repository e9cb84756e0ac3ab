-- wrk script for bench/complaints.py: every request is a complaint form posted by a browser that fetched the
-- form once (the session cookie and CSRF token come as arguments); each POST carries a fresh per-form token,
-- as each new form page would; with a pause (ms) each connection waits that long before its next POST, so 50
-- clients offer a steady rate instead of saturating the server. Prints one "BENCH {json}" line for the harness.
local cookie, prefix, pause
local started = 0

function setup(thread)
  -- each thread its own seed: equal token sequences would make repeats the server answers without inserting
  started = started + 1
  thread:set("thread_id", started)
end

function init(args)
  cookie, prefix, pause = args[1], args[2], tonumber(args[3])
  math.randomseed(os.time() * 100 + thread_id)
end

local function token()
  local parts = {}
  for i = 1, 4 do parts[i] = string.format("%08x", math.random(0, 0x7fffffff)) end
  return table.concat(parts)
end

function request()
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
  if cookie ~= "" then headers["Cookie"] = cookie end
  return wrk.format("POST", "/forms/complaint/", headers, prefix .. "&token=" .. token())
end

-- a client's think time between two POSTs (0: back to back, the server saturated)
function delay()
  return pause
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
