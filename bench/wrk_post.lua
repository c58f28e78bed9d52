-- POST each pre-generated JSON body (one per line of a file) exactly once.
--
-- wrk ... -s bench/wrk_post.lua URL -- BODIES_FILE TOKEN DONE_DIR THREADS
--
-- Thread i sends lines i, i+THREADS, ... so every order_id is sent once. When a
-- thread has sent its last body it stops at the next response (up to
-- connections-1 responses still in flight are not waited for), writes
-- DONE_DIR/thread-<i>, and bench.intake then ends wrk with SIGINT. wrk's own
-- req/s divides by its -d duration, so each thread also records the monotonic
-- time of its first send and last counted response (same clock as Python's
-- time.monotonic_ns()); done() prints one "BENCH-JSON {...}" line.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")

local function now_ns()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1e9 + tonumber(clock.tv_nsec)
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  local path, token = args[1], args[2]
  done_dir, nthreads = args[3], tonumber(args[4])
  bodies = {}
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == id then
      bodies[#bodies + 1] = line
    end
    i = i + 1
  end
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Token " .. token,
  }
  nxt, received, first_ns, last_ns = 1, 0, 0, 0
  finished = false
  codes = {}
end

function request()
  local body = bodies[nxt]
  if body == nil then
    -- A connection freed in the event-loop pass that stopped the thread: a GET
    -- costs the server little (405) and is never counted.
    return wrk.format("GET", nil, headers)
  end
  if nxt == 1 then
    first_ns = now_ns()
  end
  nxt = nxt + 1
  return wrk.format("POST", nil, headers, body)
end

function response(status, _headers, _body)
  if finished then
    return
  end
  received = received + 1
  last_ns = now_ns()
  codes[status] = (codes[status] or 0) + 1
  -- Kept current: a run ended by the time bound never reaches the end below.
  status_text = ""
  for code, count in pairs(codes) do
    status_text = status_text .. code .. ":" .. count .. ","
  end
  if nxt > #bodies then
    finished = true
    local marker = io.open(done_dir .. "/thread-" .. id, "w")
    marker:write("done\n")
    marker:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, _requests)
  local first, last, total, statuses = nil, 0, 0, ""
  for _, thread in ipairs(threads) do
    local f = thread:get("first_ns")
    if f and f > 0 and (first == nil or f < first) then
      first = f
    end
    last = math.max(last, thread:get("last_ns") or 0)
    total = total + (thread:get("received") or 0)
    statuses = statuses .. (thread:get("status_text") or "")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"received": %d, "first_ns": %.0f, "last_ns": %.0f, ' ..
    '"statuses": "%s", "wrk_requests": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d}}\n',
    total, first or 0, last, statuses, summary.requests,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
