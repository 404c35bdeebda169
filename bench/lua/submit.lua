-- Scenario 3 (and 5): score submissions, as many users in turn.
-- Args: slug, tokens file. Each user sends one of a few random scores.
dofile("common.lua")

local next_request

function init(args)
  local path = string.format("/api/v1/contests/%s/submissions/", args[1])
  local tokens = read_tokens(args[2])
  math.randomseed(1000 + (thread_id or 0))
  next_request = cycle(request_pool(#tokens * 3, function(i)
    return submission(path, tokens[(i - 1) % #tokens + 1], math.random(0, 1000000))
  end))
end

function request()
  return next_request()
end
