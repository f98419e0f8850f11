#!/usr/bin/env python3
"""A stand-in for xnv-netbackd's control socket, for xnvctl's tests: answers
"list" with one vif whose counters grow by 1000 packets (1500 bytes each)
each way per answer, "text list"/"text stats" with a fixed table; with
--garbage, "list" gets an answer that is not the daemon's JSON.
    fake-netbackd.py SOCKET [--garbage]     (exits on SIGTERM)"""
import json
import os
import socket
import sys

path = sys.argv[1]
garbage = "--garbage" in sys.argv[2:]
if os.path.exists(path):
    os.unlink(path)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(8)
k = 0
while True:
    c, _ = srv.accept()
    req = c.recv(64).decode()
    if req.startswith("text list"):
        out = "DOMID  DEVID  IFNAME   STATE\n7      0      vif7.0   connected\n"
    elif req.startswith("text stats"):
        out = "IFNAME         QUEUE      TX_PKTS\nvif7.0           all  %d\n" % (1000 * k)
    elif req.startswith("list") and garbage:
        out = "<html>not xnv</html>\n"
    elif req.startswith("list"):
        k += 1
        st = {n: 0 for n in ("tx_drops", "tx_errors", "rx_drops", "rx_errors", "notify_sent",
                             "notify_recv", "copy_calls", "copy_segments", "stalls",
                             "fastpath_packets")}
        st.update(tx_packets=1000 * k, tx_bytes=1500000 * k, rx_packets=1000 * k,
                  rx_bytes=1500000 * k)
        vif = {"domid": 7, "devid": 0, "ifname": "vif7.0", "state": 4, "queues": 1,
               "features": 1, "carrier": True, "broken": False, "mac": "00:16:3e:00:00:07",
               "stats": st, "per_queue": [st]}
        out = json.dumps({"vifs": [vif]}, separators=(",", ":")) + "\n"
    else:
        out = '{"error":"unknown request"}\n'
    c.sendall(out.encode())
    c.close()
