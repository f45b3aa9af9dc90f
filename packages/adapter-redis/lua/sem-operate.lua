-- semop: applies every operation or none. Answers BLOCK (and records the caller as waiting, for
-- GETNCNT/GETZCNT) when an operation without nowait cannot be applied, EAGAIN when the first one
-- that cannot be applied has nowait, ERANGE when a value or an undo adjustment would leave its range.
-- KEYS: meta, val (idx -> value), pid (idx -> last pid), undo ('<client>:<idx>' -> adjustment),
--       wait ('<client>:<waiter>' -> 'n<idx>' or 'z<idx>')
-- ARGV: id, uid, gid, pid, clientId, waiterKey ('' = do not record), nowait (1/0), tag,
--       then per operation: index, delta, flags (1 nowait, 2 undo)
local meta, val, pidk, undo, wait = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if not alive(meta, ARGV[1]) then return {'EINVAL'} end
-- A caller that waited was recorded as waiting (GETNCNT/GETZCNT) by its last attempt: every answer
-- that ends its wait (anything but BLOCK) drops that record, as the kernel's semop leaves the
-- queue of waiters however it returns.
local function done(status)
  if ARGV[6] ~= '' then redis.call('HDEL', KEYS[5], ARGV[6]) end
  return {status}
end
local SEMVMX = 32767
local ops = {}
local alter = false
for i = 9, #ARGV, 3 do
  local op = { idx = ARGV[i], delta = tonumber(ARGV[i + 1]), flags = tonumber(ARGV[i + 2]) }
  if op.delta ~= 0 then alter = true end
  ops[#ops + 1] = op
end
local want = 4
if alter then want = 2 end
if not permitted(meta, tonumber(ARGV[2]), tonumber(ARGV[3]), want) then return done('EACCES') end
local client, waiterKey, allNowait = ARGV[5], ARGV[6], ARGV[7] == '1'
local values, adjust = {}, {}
for _, op in ipairs(ops) do
  local cur = values[op.idx]
  if cur == nil then cur = tonumber(redis.call('HGET', val, op.idx) or '0') end
  local result = cur + op.delta
  if (op.delta == 0 and cur ~= 0) or result < 0 then
    if allNowait or bit.band(op.flags, 1) ~= 0 then return done('EAGAIN') end
    if waiterKey ~= '' then
      local kind = 'n'
      if op.delta == 0 then kind = 'z' end
      redis.call('HSET', wait, waiterKey, kind .. op.idx)
    end
    return {'BLOCK'}
  end
  if result > SEMVMX then return done('ERANGE') end
  if bit.band(op.flags, 2) ~= 0 then
    local field = client .. ':' .. op.idx
    local adj = adjust[field]
    if adj == nil then adj = tonumber(redis.call('HGET', undo, field) or '0') end
    adj = adj - op.delta
    if adj < -SEMVMX - 1 or adj > SEMVMX then return done('ERANGE') end
    adjust[field] = adj
  end
  values[op.idx] = result
end
for idx, value in pairs(values) do redis.call('HSET', val, idx, value) end
for field, adj in pairs(adjust) do
  if adj == 0 then redis.call('HDEL', undo, field) else redis.call('HSET', undo, field, adj) end
end
for _, op in ipairs(ops) do redis.call('HSET', pidk, op.idx, ARGV[4]) end
redis.call('HSET', meta, 'otime', now_s())
if alter then redis.call('PUBLISH', ARGV[8] .. ':ch', 'o') end
return done('OK')
