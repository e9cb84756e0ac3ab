-- wrk script for bench/complaints.py: every request is a complaint form posted by a browser that fetched the
-- form once (the session cookie and CSRF token come as arguments); each POST carries a fresh per-form token,
-- as each new form page would; with a pause (ms) each connection waits a random time of that mean before each POST
-- (its first included), so 50 clients offer a steady rate at random moments, as citizens do, instead of
-- saturating the server. Prints one "BENCH {json}" line for the harness.
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
  -- through nginx each POST comes from an address of its own (real_ip_header in bench/servers.py), as citizens'
  -- do: the shipped per-address limits stay on and out of the way; gunicorn alone ignores the header
  local client = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["X-Bench-Client"] = client}
  if cookie ~= "" then headers["Cookie"] = cookie end
  return wrk.format("POST", "/forms/complaint/", headers, prefix .. "&token=" .. token())
end

-- a client's think time before a POST (0: back to back, the server saturated): exponential with mean `pause`,
-- so arrivals are random. A fixed pause kept the 50 clients in step from their first POST on: bursts of 50 at
-- once, whose last POST waited for the 49 before it, whatever the server did.
function delay()
  if pause == 0 then return 0 end
  return math.floor(-pause * math.log(1 - math.random()))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
