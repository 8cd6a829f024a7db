# Drives python etcd3gw (Debian's python3-etcd3gw, OpenStack's client of the
# v3 gateway), unchanged, against the member at argv[1]:argv[2]. Prints OK
# and exits 0 when every step saw what it should; otherwise prints what went
# wrong and exits 1. e2e/etcd3gw_test.go runs it against cairn (and, when
# installed, against a real etcd 3.4 to show the script itself is right).
import sys
import threading

from etcd3gw.client import Etcd3Client

host, port = sys.argv[1], int(sys.argv[2])
c = Etcd3Client(host=host, port=port, api_path='/v3/')


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


# Three puts, then a watch from the first: the "created" message and the
# three past events are ready at once, a fourth put comes live.
for v in ('v1', 'v2', 'v3'):
    c.put('gw/k', v)
got = c.get('gw/k', metadata=True)
if len(got) != 1 or got[0][0] != b'v3':
    fail('get: %r' % (got,))
first = int(got[0][1]['mod_revision']) - 2
events, cancel = c.watch('gw/k', start_revision=first)
seen = []
done = threading.Event()


def collect():
    for ev in events:
        seen.append(ev['kv']['value'])
        if len(seen) == 4:
            done.set()
            return


threading.Thread(target=collect, daemon=True).start()
c.put('gw/k', 'v4')
# The wait only bounds a broken stream; a right one is done at once.
if not done.wait(60):
    fail('watch saw %r, want v1..v4' % (seen,))
cancel()
if seen != [b'v1', b'v2', b'v3', b'v4']:
    fail('watch saw %r' % (seen,))

# A prefix watch that sees one live event.
result = {}


def once():
    result['ev'] = c.watch_prefix_once('gw/p/', timeout=60)


t = threading.Thread(target=once, daemon=True)
t.start()
# The watch is created asynchronously: keep writing until it sees one.
n = 0
while t.is_alive() and n < 600:
    c.put('gw/p/x', 'px%d' % n)
    t.join(0.1)
    n += 1
ev = result.get('ev')
if not ev or not ev['kv']['value'].startswith(b'px'):
    fail('watch_prefix_once: %r' % (ev,))

# A lease: grant, attach a key, keepalive, list its keys, revoke.
lease = c.lease(ttl=60)
c.put('gw/leased', 'x', lease=lease)
if lease.refresh() <= 0:
    fail('lease refresh')
if lease.keys() != [b'gw/leased']:
    fail('lease keys: %r' % (lease.keys(),))
if not lease.revoke():
    fail('lease revoke')
if c.get('gw/leased'):
    fail('the leased key outlived its lease')

# etcd3gw's lock (a txn on a key with a lease).
lock = c.lock('gw-lock', ttl=60)
if not lock.acquire():
    fail('lock acquire')
if not lock.is_acquired():
    fail('lock not held')
if not lock.release():
    fail('lock release')

# A transaction and a delete.
if not c.replace('gw/k', 'v4', 'v5'):
    fail('replace')
if c.replace('gw/k', 'nope', 'v6'):
    fail('replace of a wrong value succeeded')
if not c.delete('gw/k'):
    fail('delete')
if c.get('gw/k'):
    fail('deleted key still there')
print('OK')
