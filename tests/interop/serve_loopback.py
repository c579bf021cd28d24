"""Publishing a test server's port and serving until interrupted, for the
interop suite's Python servers (interop_responder.py, interop_est_server.py).

The test that started the server waits for DIR/port: it is written to a
temporary name and renamed, so a reader never sees a partial number.
"""
import os


def publish_port_and_serve(server, directory):
    """Writes server's port to DIRECTORY/port, then serves until ^C.
    Returns 0 (the exit code of a server that was stopped)."""
    tmp = os.path.join(directory, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, os.path.join(directory, "port"))  # ready
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
