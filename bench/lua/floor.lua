-- The floor: a bare Django view that returns constant JSON.
dofile("common.lua")

local next_request

function init(args)
  next_request = cycle({wrk.format("GET", "/bench/floor/")})
end

function request()
  return next_request()
end
