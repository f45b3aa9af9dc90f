-- semctl writes: SETVAL and SETALL. Each clears the SEM_UNDO adjustments of the semaphores it
-- sets (every client's), records the caller's pid, and wakes waiters.
-- KEYS: meta, val, undo, pid. ARGV: id, uid, gid, pid, tag, what ('setval' | 'setall'), then
-- for setval: index, value; for setall: every value in index order
local meta, val, undo, pidk = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if not alive(meta, ARGV[1]) then return {'EINVAL'} end
if not permitted(meta, tonumber(ARGV[2]), tonumber(ARGV[3]), 2) then return {'EACCES'} end
local set = {}
if ARGV[6] == 'setval' then
  set[ARGV[7]] = ARGV[8]
else
  for i = 7, #ARGV do set[tostring(i - 7)] = ARGV[i] end
end
for idx, value in pairs(set) do
  redis.call('HSET', val, idx, value)
  redis.call('HSET', pidk, idx, ARGV[4])
end
for _, field in ipairs(redis.call('HKEYS', undo)) do
  local idx = string.match(field, ':(%d+)$')
  if idx and set[idx] then redis.call('HDEL', undo, field) end
end
redis.call('HSET', meta, 'ctime', now_s())
redis.call('PUBLISH', ARGV[5] .. ':ch', 'v')
return {'OK'}
