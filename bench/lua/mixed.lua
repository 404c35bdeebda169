-- Scenario 4: 90% anonymous reads of the top 50, 10% submissions.
-- Args: slug, tokens file.
dofile("common.lua")

local reads, writes

function init(args)
  local read = wrk.format("GET",
    string.format("/api/v1/contests/%s/leaderboard/?limit=50", args[1]))
  local path = string.format("/api/v1/contests/%s/submissions/", args[1])
  local tokens = read_tokens(args[2])
  math.randomseed(2000 + (thread_id or 0))
  reads = read
  writes = cycle(request_pool(#tokens, function(i)
    return submission(path, tokens[i], math.random(0, 1000000))
  end))
end

local counter = 0

function request()
  counter = counter + 1
  if counter % 10 == 0 then return writes() end
  return reads
end
