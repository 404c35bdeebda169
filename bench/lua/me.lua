-- Scenario 2: leaderboard/me/ with neighbours, as many users in turn.
-- Args: slug, tokens file, neighbours.
dofile("common.lua")

local next_request

function init(args)
  local path = string.format("/api/v1/contests/%s/leaderboard/me/?neighbours=%s",
                             args[1], args[3] or "5")
  local tokens = read_tokens(args[2])
  next_request = cycle(request_pool(#tokens, function(i)
    return wrk.format("GET", path, {Authorization = "Bearer " .. tokens[i]})
  end))
end

function request()
  return next_request()
end
