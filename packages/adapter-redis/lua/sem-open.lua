-- semget: opens or creates the semaphore set whose keys carry this script's hash tag.
-- KEYS: meta, val
-- ARGV: newId, key, create (1/0), exclusive (1/0), nsems (0 = any), mode, uid, gid
local meta, val = KEYS[1], KEYS[2]
local id = redis.call('HGET', meta, 'id')
local uid, gid = tonumber(ARGV[7]), tonumber(ARGV[8])
local nsems = tonumber(ARGV[5])
if id then
  if ARGV[4] == '1' then return {'EEXIST'} end
  local size = tonumber(redis.call('HGET', meta, 'nsems'))
  if nsems > size then return {'EINVAL'} end
  local asked = tonumber(ARGV[6])
  -- Opening reports the set's size, which takes read permission (IPC_STAT), as on the native backend.
  local want = 4
  if bit.band(asked, 0x92) ~= 0 then want = want + 2 end
  if not permitted(meta, uid, gid, want) then return {'EACCES'} end
  return {'OK', id, size}
end
if ARGV[3] ~= '1' then return {'ENOENT'} end
if nsems < 1 then return {'EINVAL'} end
redis.call('HSET', meta, 'id', ARGV[1], 'key', ARGV[2], 'nsems', nsems, 'mode', ARGV[6], 'uid', ARGV[7], 'gid', ARGV[8],
  'cuid', ARGV[7], 'cgid', ARGV[8], 'otime', 0, 'ctime', now_s())
return {'OK', ARGV[1], nsems}
