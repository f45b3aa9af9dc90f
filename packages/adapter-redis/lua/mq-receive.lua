-- msgrcv, for one or more receives of one handle (the receives a handle starts in one tick travel
-- in one call). Each takes the message that its type rule selects, or says BLOCK / ENOMSG (none,
-- nowait) / E2BIG (longer than maxBytes without noError: the message stays), exactly as if the
-- receives had run one after the other in call order.
--
-- No message is lost to a reply that never arrives (the server or the link died after the script
-- ran): a taken message is kept as a claim ('<handle>:<request>' -> seq, type, bytes) until the
-- handle's next call acknowledges the request; a request whose reply the client never got is
-- reported as lost, and its message goes back into the queue at its old place.
--
-- A receive that would block and names an inbox registers instead (waiter '<handle>:<request>'
-- in `waiters`, its entry appended to `wq`): the next suitable send hands it its message (mq-send.lua).
-- With wake = 1 the call came on the inbox connection with a blocking pop of the inbox right
-- behind it (inbox.ts): if it registers no receive, it pushes 'wake' so that the pop returns at once.
-- KEYS: meta, order, typ, data, types (as in mq-send.lua), claims, waiters, wq
-- ARGV: id, pid, uid, gid, tag, handle, acknowledged requests (comma-separated), lost requests
--       (comma-separated), inbox ('' none), wake (1/0), then per receive: request number, rule ('any' | 'eq' |
--       'except' | 'le'), type (decimal, absolute value for 'le'), noError (1/0), maxBytes, nowait (1/0)
-- Reply: status ('OK' or the refusal of every receive: 'EINVAL', 'EACCES'), the lost requests
--        settled (comma-separated), then per receive: status, type, payload ('' unless OK).
local meta, order, typ, data, types, claims = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local waiters, wq = KEYS[7], KEYS[8]
local tag, handle, inbox, wake = ARGV[5], ARGV[6], ARGV[9], ARGV[10] == '1'
-- Every reply goes through here: the pop behind a call that registered nothing must not block.
local function finish(out, registered)
  if wake and not registered then redis.call('RPUSH', inbox, 'wake') end
  return out
end
local f = redis.call('HMGET', meta, 'uid', 'gid', 'cuid', 'cgid', 'mode', 'id')
if f[6] ~= ARGV[1] then return finish({'EINVAL', ''}, false) end
local acked = {}
for n in string.gmatch(ARGV[7], '[^,]+') do acked[#acked + 1] = handle .. ':' .. n end
bulk('HDEL', claims, acked)
local settled = {}
for n in string.gmatch(ARGV[8], '[^,]+') do
  -- A lost request may still be registered: it waits no more.
  local entry = redis.call('HGET', waiters, handle .. ':' .. n)
  if entry then
    redis.call('HDEL', waiters, handle .. ':' .. n)
    redis.call('LREM', wq, 1, entry)
  end
  local claim = redis.call('HGET', claims, handle .. ':' .. n)
  if claim then
    local s1 = string.find(claim, ' ', 1, true)
    local s2 = string.find(claim, ' ', s1 + 1, true)
    local cseq, ctype, cdata = string.sub(claim, 1, s1 - 1), string.sub(claim, s1 + 1, s2 - 1), string.sub(claim, s2 + 1)
    redis.call('ZADD', order, cseq, cseq)
    redis.call('HSET', typ, cseq, ctype)
    redis.call('HSET', data, cseq, cdata)
    redis.call('ZADD', types, ctype, ctype)
    redis.call('ZADD', tag .. ':t:' .. ctype, cseq, cseq)
    redis.call('HINCRBY', meta, 'cbytes', string.len(cdata))
    redis.call('HINCRBY', meta, 'qnum', 1)
    redis.call('HDEL', claims, handle .. ':' .. n)
    redis.call('PUBLISH', tag .. ':ch', 's' .. ctype)
  end
  settled[#settled + 1] = n
end
local lostSettled = table.concat(settled, ',')
if not granted_by(f, tonumber(ARGV[3]), tonumber(ARGV[4]), 4) then return finish({'EACCES', lostSettled}, false) end
local out = {'OK', lostSettled}
local taken, freed = 0, 0
-- Written once at the end (one command per key, not one per receive): registrations, claims, and
-- the taken messages' entries (later receives of the batch look only at `order` and the per-type sets).
local registered, entries, claimed, gone = {}, {}, {}, {}
-- Taken messages leave `order` and their per-type set at the end too (or before a rule that reads
-- `types` or walks the queue: `flush`): until then both keep their offsets, so the receives of a
-- batch walk them with cursors (up to 64 members per read) and skip what this call took (`taken_now`),
-- instead of one read and two removals per message.
local taken_now, pendingOrder, pendingByType, touchedTypes, cursors = {}, {}, {}, {}, {}
local receives = (#ARGV - 10) / 6
-- Members per read: as many as the batch can take, at most 64 (a lone receive reads one).
local chunk = math.min(64, receives)
local function first_left(key)
  local c = cursors[key]
  if c == nil then
    c = { start = 0, list = redis.call('ZRANGE', key, 0, chunk - 1), i = 1 }
    cursors[key] = c
  end
  while true do
    local member = c.list[c.i]
    if member == nil then
      if #c.list < chunk then return nil end
      c.start = c.start + chunk
      c.list = redis.call('ZRANGE', key, c.start, c.start + chunk - 1)
      c.i = 1
    elseif taken_now[member] then
      c.i = c.i + 1
    else
      return member
    end
  end
end
local function flush()
  if #pendingOrder == 0 then return end
  bulk('ZREM', order, pendingOrder)
  for _, t in ipairs(touchedTypes) do
    local perType = tag .. ':t:' .. t
    bulk('ZREM', perType, pendingByType[t])
    if redis.call('ZCARD', perType) == 0 then redis.call('ZREM', types, t) end
  end
  pendingOrder, pendingByType, touchedTypes, cursors = {}, {}, {}, {}
end
for i = 1, receives do
  local base = 10 + (i - 1) * 6
  local number, rule, wanted, noerror, max, nowait = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], ARGV[base + 4], tonumber(ARGV[base + 5]), ARGV[base + 6]
  local seq
  if rule == 'any' then
    seq = first_left(order)
  elseif rule == 'eq' then
    seq = first_left(tag .. ':t:' .. wanted)
  elseif rule == 'le' then
    flush()
    local lowest = redis.call('ZRANGEBYSCORE', types, '-inf', wanted, 'LIMIT', 0, 1)[1]
    if lowest then seq = redis.call('ZRANGE', tag .. ':t:' .. lowest, 0, 0)[1] end
  else
    -- MSG_EXCEPT: the first message of any other type. Walk the queue in order; only messages of
    -- the excluded type are skipped.
    flush()
    local start = 0
    while seq == nil do
      local batch = redis.call('ZRANGE', order, start, start + 63)
      if #batch == 0 then break end
      for _, candidate in ipairs(batch) do
        if redis.call('HGET', typ, candidate) ~= wanted then seq = candidate break end
      end
      start = start + 64
    end
  end
  local o = #out
  if seq == nil then
    if nowait == '1' then
      out[o + 1], out[o + 2], out[o + 3] = 'ENOMSG', '', ''
    else
      if inbox ~= '' then
        local w = handle .. ':' .. number
        local entry = w .. ' ' .. rule .. ' ' .. wanted .. ' ' .. noerror .. ' ' .. max .. ' ' .. ARGV[2] .. ' ' .. inbox
        registered[#registered + 1] = w
        registered[#registered + 1] = entry
        entries[#entries + 1] = entry
      end
      out[o + 1], out[o + 2], out[o + 3] = 'BLOCK', '', ''
    end
  else
    local payload = redis.call('HGET', data, seq)
    local mtype = redis.call('HGET', typ, seq)
    local len = string.len(payload)
    if len > max and noerror ~= '1' then
      out[o + 1], out[o + 2], out[o + 3] = 'E2BIG', '', ''
    else
      claimed[#claimed + 1] = handle .. ':' .. number
      claimed[#claimed + 1] = seq .. ' ' .. mtype .. ' ' .. payload
      if len > max then payload = string.sub(payload, 1, max) end
      gone[#gone + 1] = seq
      taken_now[seq] = true
      pendingOrder[#pendingOrder + 1] = seq
      push_grouped(pendingByType, touchedTypes, mtype, seq)
      -- The next 'le' or 'except' receive reads `types` / walks `order` as they are now.
      if rule == 'le' or rule == 'except' then flush() end
      taken = taken + 1
      freed = freed + len
      out[o + 1], out[o + 2], out[o + 3] = 'OK', mtype, payload
    end
  end
end
flush()
bulk('HSET', waiters, registered)
bulk('RPUSH', wq, entries)
if taken > 0 then
  bulk('HSET', claims, claimed)
  bulk('HDEL', typ, gone)
  bulk('HDEL', data, gone)
  local q = redis.call('HMGET', meta, 'cbytes', 'qnum')
  redis.call('HSET', meta, 'cbytes', tonumber(q[1]) - freed, 'qnum', tonumber(q[2]) - taken, 'lrpid', ARGV[2], 'rtime', now_s())
  redis.call('PUBLISH', tag .. ':ch', 'r')
end
return finish(out, #entries > 0)
