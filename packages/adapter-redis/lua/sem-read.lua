-- semctl reads: GETVAL, GETALL, GETNCNT, GETZCNT, GETPID, IPC_STAT.
-- KEYS: meta, val, pid, wait. ARGV: id, uid, gid, what, index
local meta, val, pidk, wait = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if not alive(meta, ARGV[1]) then return {'EINVAL'} end
if not permitted(meta, tonumber(ARGV[2]), tonumber(ARGV[3]), 4) then return {'EACCES'} end
local what, idx = ARGV[4], ARGV[5]
if what == 'val' then return {'OK', redis.call('HGET', val, idx) or '0'} end
if what == 'pid' then return {'OK', redis.call('HGET', pidk, idx) or '0'} end
if what == 'all' then
  local n = tonumber(redis.call('HGET', meta, 'nsems'))
  local out = {'OK'}
  for i = 0, n - 1 do out[#out + 1] = redis.call('HGET', val, tostring(i)) or '0' end
  return out
end
if what == 'ncnt' or what == 'zcnt' then
  local wanted = 'n' .. idx
  if what == 'zcnt' then wanted = 'z' .. idx end
  local count = 0
  for _, entry in ipairs(redis.call('HVALS', wait)) do
    if entry == wanted then count = count + 1 end
  end
  return {'OK', count}
end
local f = redis.call('HMGET', meta, 'key', 'nsems', 'mode', 'uid', 'gid', 'cuid', 'cgid', 'otime', 'ctime')
return {'OK', unpack(f)}
