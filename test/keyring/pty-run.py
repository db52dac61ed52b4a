# Runs a command on a pseudo-terminal (as a person at a terminal would), types each line of
# argv[1] (a JSON list of strings) once the program has printed something, and prints everything
# the terminal showed as JSON {"output", "code"}. For keyring.test.ts: `secret set` must not echo.
import json, os, pty, select, sys

typed = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
out = b''
while True:
    ready, _, _ = select.select([fd], [], [], 30)
    if not ready:
        break
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if typed and b'not shown' in out:
        os.write(fd, typed.pop(0).encode())
_, status = os.waitpid(pid, 0)
print(json.dumps({'output': out.decode('utf-8', 'replace'), 'code': os.waitstatus_to_exitcode(status)}))
