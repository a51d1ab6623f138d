-- wrk script of the check bench: POST /v1/checks with the bodies of $WRK_BODIES
-- (one JSON body a line; the bench alternates a blocked and an allowed subject),
-- each connection starting at its own line. $WRK_DELAY_MS > 0 paces each connection
-- (the "half of the maximum rate" run).
local bodies = {}
for line in io.lines(os.getenv("WRK_BODIES")) do
  bodies[#bodies + 1] = line
end
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0")
local n = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("WRK_TOKEN") or "")

function init(args)
  n = math.random(#bodies)
end

function request()
  n = n % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[n])
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end
