-- Reads the next piece of what channels hold after a cursor, as one atomic snapshot.
-- The work is bounded: each channel contributes about a byte budget, so a resume over
-- many channels and long histories takes many short calls, never one long one.
-- Reading creates no keys, except the service's id counter and epoch when Redis holds
-- neither yet (two keys for the whole service, as a publish would create them).
--
-- KEYS: the id counter, the epoch, then each channel's last-id key and stream.
-- ARGV: the cursor ('' for none), the newest id to read up to ('' for the newest now),
-- the byte budget per channel, history length, history lifetime in ms.
-- Returns {newest id, epoch, cursor valid (1/0), {{channel number, floor}, ...} for
-- the channels with a gap, {{channel number, id, data}, ...}, {channel number, ...}
-- for the channels with more to read}; channels are numbered from 1 in KEYS order, and
-- each channel's entries are in id order. A channel with a gap is complete after its
-- floor, and its entries are those after the floor.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local newest = redis.call('GET', KEYS[1])
if not newest then
  newest = string.format('%.0f', now)
  redis.call('SET', KEYS[1], newest)
  redis.call('SET', KEYS[2], newest)
end
local epoch = redis.call('GET', KEYS[2]) or '0'
if ARGV[1] == '' then
  return {newest, epoch, 1, {}, {}, {}}
end
local cursor = tonumber(ARGV[1])
local valid = 1
-- A cursor from the future or from before this history began (Redis lost its data):
-- what Redis holds begins at the epoch, so read from there.
if cursor > tonumber(newest) or cursor < tonumber(epoch) then
  cursor = tonumber(epoch)
  valid = 0
end
local through = tonumber(newest)
if ARGV[2] ~= '' then
  through = math.min(through, tonumber(ARGV[2]))
end
local budget = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local horizon = now - tonumber(ARGV[5]) * 1000
-- Entries are read a page at a time until the channel's budget is spent. A page is
-- sized from the entries read so far (at first: two), so large messages never make
-- one XRANGE read far past the budget.
local max_page = 64
local gaps, entries, cut = {}, {}, {}
for i = 3, #KEYS, 2 do
  local n = (i - 1) / 2
  local last = redis.call('GET', KEYS[i])
  if not last then
    -- Nothing was published for a whole lifetime: the channel holds nothing after
    -- the horizon, hence nothing up to the newest id. A cursor before the horizon may
    -- have missed what expired, and continues from the newest id.
    if cursor < math.min(horizon, tonumber(newest)) then
      table.insert(gaps, {n, newest})
    end
  elseif tonumber(last) > cursor then
    local start = '(' .. string.format('%.0f', cursor) .. '-0'
    local bytes, first = 0, true
    -- The stream is trimmed approximately (whole nodes at a time): history is its
    -- newest `limit` entries, and what is older counts as trimmed. Bounded: a stream
    -- holds at most about one node more than `limit` (a node holds up to 4 KiB of
    -- entries, or a single larger one, with Redis's defaults).
    local extra = redis.call('XLEN', KEYS[i + 1]) - limit
    if extra > 0 then
      local older = redis.call('XRANGE', KEYS[i + 1], '-', '+', 'COUNT', math.min(extra, 128))
      local floor = string.sub(older[#older][1], 1, -3)
      if tonumber(floor) > cursor then
        table.insert(gaps, {n, floor})
        start = '(' .. older[#older][1]
        first = false
      end
    end
    local seen, page = 0, 2
    repeat
      if seen > 0 then
        local left = math.max(budget - bytes, 0)
        page = math.max(1, math.min(max_page, math.floor(left * seen / bytes) + 1))
      end
      local found = redis.call('XRANGE', KEYS[i + 1], start, '+', 'COUNT', page)
      if first then
        first = false
        if #found == 0 then
          -- The stream is gone: nothing is left up to the channel's last id.
          table.insert(gaps, {n, last})
        elseif tonumber(found[1][2][2]) > cursor then
          -- The entry before the oldest one found (its `p` field) was trimmed.
          table.insert(gaps, {n, found[1][2][2]})
        end
      end
      local over = false
      for _, entry in ipairs(found) do
        local id = string.sub(entry[1], 1, -3)
        if tonumber(id) > through then
          over = true
          break
        end
        if bytes >= budget then
          table.insert(cut, n)
          over = true
          break
        end
        bytes = bytes + #entry[2][4]
        seen = seen + 1
        table.insert(entries, {n, id, entry[2][4]})
        start = '(' .. entry[1]
      end
    until over or #found < page
  end
end
return {newest, epoch, valid, gaps, entries, cut}
