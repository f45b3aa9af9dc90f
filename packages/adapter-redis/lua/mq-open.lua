-- msgget: opens or creates the System V queue whose keys carry this script's hash tag.
-- KEYS[1] meta
-- ARGV: newId, key, create (1/0), exclusive (1/0), mode, uid, gid, defaultMaxBytes
local meta = KEYS[1]
local id = redis.call('HGET', meta, 'id')
local uid, gid = tonumber(ARGV[6]), tonumber(ARGV[7])
if id then
  if ARGV[4] == '1' then return {'EEXIST'} end
  -- msgget checks the permission bits asked for against the queue's mode.
  local asked = tonumber(ARGV[5])
  local want = 0
  if bit.band(asked, 0x124) ~= 0 then want = want + 4 end
  if bit.band(asked, 0x92) ~= 0 then want = want + 2 end
  if not permitted(meta, uid, gid, want) then return {'EACCES'} end
  return {'OK', id}
end
if ARGV[3] ~= '1' then return {'ENOENT'} end
redis.call('HSET', meta, 'id', ARGV[1], 'key', ARGV[2], 'mode', ARGV[5], 'uid', ARGV[6], 'gid', ARGV[7],
  'cuid', ARGV[6], 'cgid', ARGV[7], 'qbytes', ARGV[8], 'cbytes', 0, 'qnum', 0, 'lspid', 0, 'lrpid', 0,
  'stime', 0, 'rtime', 0, 'ctime', now_s(), 'seq', 0)
return {'OK', ARGV[1]}
