-- Shared by every scenario (loaded with dofile; wrk runs in bench/lua):
-- counts responses by status in each thread, and at the end prints one
-- line "BENCH {json}" that bench/run.py reads.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

statuses = {}

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

-- Read one token per line; each thread starts at its own place in the list.
function read_tokens(path)
  local tokens = {}
  for line in io.lines(path) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  if #tokens == 0 then error("no tokens in " .. path) end
  return tokens
end

-- Build every request up front: wrk calls request() once per request,
-- and formatting one there would cost the load generator CPU the server
-- needs (both share this machine).
function request_pool(count, build)
  local pool = {}
  for i = 1, count do pool[i] = build(i) end
  return pool
end

function submission(path, token, score)
  return wrk.format("POST", path, {
    Authorization = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, string.format('{"score": %d}', score))
end

function cycle(pool)
  local position = (thread_id or 0) * 7919 % #pool
  return function()
    position = position % #pool + 1
    return pool[position]
  end
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      counts[tostring(code)] = (counts[tostring(code)] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(counts) do
    parts[#parts + 1] = string.format('"%s":%d', code, n)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"max_us":%d,"mean_us":%.1f,"statuses":{%s},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, table.concat(parts, ","), e.connect, e.read, e.write,
    e.timeout))
end
