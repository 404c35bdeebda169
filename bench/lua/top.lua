-- Scenario 1: the top of a board, anonymous. Args: slug, limit.
dofile("common.lua")

local next_request

function init(args)
  local path = string.format("/api/v1/contests/%s/leaderboard/?limit=%s",
                             args[1], args[2] or "50")
  next_request = cycle({wrk.format("GET", path)})
end

function request()
  return next_request()
end
