"""WebSocket over HTTP/2 (RFC 8441 extended CONNECT) on the same App routes, with Debian's
python3-h2 as the client: SETTINGS_ENABLE_CONNECT_PROTOCOL, `:method CONNECT` +
`:protocol websocket` answered 200, then WebSocket frames in DATA frames both ways."""

import signal
import socket
import struct

import h2.config
import h2.connection
import h2.events
import h2.settings

from test_gateway import gateway  # noqa: F401  (fixture)
from test_websocket import close_code_of, masked_frame, server  # noqa: F401  (fixture)


class H2WebSocket:
    def __init__(self, port, path, extra=()):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.flush()
        self.response = None
        self.data = b""
        self.ended = False
        self.reset = None
        self.connect_protocol = None
        self.pump_until(lambda: self.connect_protocol is not None)
        assert self.connect_protocol == 1, "the server does not announce extended CONNECT"
        self.sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(self.sid, [(":method", "CONNECT"), (":protocol", "websocket"),
                                          (":scheme", "http"), (":path", path),
                                          (":authority", "localhost"),
                                          ("sec-websocket-version", "13"), *extra])
        self.flush()
        self.pump_until(lambda: self.response is not None or self.reset is not None)

    def flush(self):
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def pump_until(self, predicate):
        while not predicate():
            data = self.sock.recv(1 << 16)
            if not data:
                raise EOFError("the server closed the connection")
            for event in self.conn.receive_data(data):
                if isinstance(event, h2.events.RemoteSettingsChanged):
                    setting = event.changed_settings.get(
                        h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL)
                    self.connect_protocol = setting.new_value if setting else 0
                elif isinstance(event, h2.events.ResponseReceived):
                    self.response = dict((k.decode(), v.decode()) for k, v in event.headers)
                elif isinstance(event, h2.events.DataReceived):
                    self.data += event.data
                    self.conn.acknowledge_received_data(event.flow_controlled_length,
                                                        event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    self.ended = True
                elif isinstance(event, h2.events.StreamReset):
                    self.reset = event.error_code
            self.flush()

    def send(self, frame):
        """Sends `frame` in DATA frames as flow control allows, reading meanwhile."""
        view = memoryview(frame)
        while view:
            window = min(self.conn.local_flow_control_window(self.sid),
                         self.conn.max_outbound_frame_size)
            if window <= 0:
                before = self.conn.local_flow_control_window(self.sid)
                self.pump_until(lambda: self.conn.local_flow_control_window(self.sid) > before)
                continue
            piece, view = view[:window], view[window:]
            self.conn.send_data(self.sid, bytes(piece))
            self.flush()

    def frame(self):
        """The next WebSocket frame from the server: (opcode, payload)."""
        def complete():
            if len(self.data) < 2:
                return False
            length = self.data[1] & 0x7F
            head = 2 + (2 if length == 126 else 8 if length == 127 else 0)
            if len(self.data) < head:
                return False
            if length == 126:
                length = struct.unpack("!H", self.data[2:4])[0]
            elif length == 127:
                length = struct.unpack("!Q", self.data[2:10])[0]
            return len(self.data) >= head + length
        self.pump_until(complete)
        opcode = self.data[0] & 0x0F
        length = self.data[1] & 0x7F
        head = 2 + (2 if length == 126 else 8 if length == 127 else 0)
        if length == 126:
            length = struct.unpack("!H", self.data[2:4])[0]
        elif length == 127:
            length = struct.unpack("!Q", self.data[2:10])[0]
        payload = self.data[head:head + length]
        self.data = self.data[head + length:]
        return opcode, payload


def test_echo_over_http2_extended_connect(server):
    ws = H2WebSocket(server.port, "/nodeflate")
    assert ws.response[":status"] == "200"
    assert "sec-websocket-accept" not in ws.response
    ws.send(masked_frame(0x1, b"hello over h2"))
    assert ws.frame() == (0x1, b"hello over h2")
    big = bytes(range(256)) * 4096  # 1 MiB: several flow-control windows
    ws.send(masked_frame(0x2, big))
    assert ws.frame() == (0x2, big)
    ws.send(masked_frame(0x8, struct.pack("!H", 1000) + b"bye"))
    opcode, payload = ws.frame()
    assert opcode == 0x8 and close_code_of(payload) == 1000
    ws.pump_until(lambda: ws.ended)


def test_subprotocol_and_compression_are_negotiated_as_over_http1(server):
    ws = H2WebSocket(server.port, "/chat", extra=[("sec-websocket-protocol", "chat.v1, chat.v2")])
    assert ws.response[":status"] == "200"
    assert ws.response["sec-websocket-protocol"] == "chat.v2"
    assert ws.frame() == (0x1, b"subprotocol=chat.v2")
    ws2 = H2WebSocket(server.port, "/echo",
                      extra=[("sec-websocket-extensions", "permessage-deflate")])
    assert ws2.response["sec-websocket-extensions"].startswith("permessage-deflate")


def test_protocol_errors_close_the_stream_with_1002(server):
    ws = H2WebSocket(server.port, "/nodeflate")
    ws.send(masked_frame(0x1, b"unmasked", mask=False))
    opcode, payload = ws.frame()
    assert opcode == 0x8 and close_code_of(payload) == 1002


def test_extended_connect_to_a_route_without_websocket_is_not_switched(server):
    """A 2xx would mean "tunnel open": a route that does not switch protocols gets 501."""
    ws = H2WebSocket(server.port, "/stats")
    assert ws.response[":status"] == "501"
    ws.pump_until(lambda: ws.ended)
    assert b"websocket is not served at this path" in ws.data


def test_websocket_over_http2_through_the_gateway_to_an_http1_backend(server, gateway):
    """The client speaks RFC 8441 to the gateway; the backend gets an HTTP/1.1 Upgrade."""
    proxy = gateway(f"""
[[upstream]]
name = "ws"
backends = ["127.0.0.1:{server.port}"]

[[route]]
name = "ws"
[route.action]
type = "proxy"
upstream = "ws"
""")
    ws = H2WebSocket(proxy.port, "/nodeflate")
    assert ws.response[":status"] == "200"
    for i in range(20):
        ws.send(masked_frame(0x1, b"through the proxy %d" % i))
        assert ws.frame() == (0x1, b"through the proxy %d" % i)
    ws.send(masked_frame(0x8, struct.pack("!H", 1000)))
    opcode, payload = ws.frame()
    assert opcode == 0x8 and close_code_of(payload) == 1000


def test_server_shutdown_closes_with_1001_over_http2(server):
    """SIGTERM: GOAWAY, and the WebSocket on the open stream gets 1001. python3-h2 refuses
    frames after a GOAWAY (RFC 9113 §6.8 allows them on streams below its last id), so what
    follows the signal is read as raw frames."""
    from hyperframe.frame import DataFrame, Frame
    ws = H2WebSocket(server.port, "/nodeflate")
    ws.send(masked_frame(0x1, b"up"))
    assert ws.frame() == (0x1, b"up")
    server.signal(signal.SIGTERM)
    raw = b""
    payload = b""
    while not payload.startswith(b"\x88"):
        chunk = ws.sock.recv(1 << 16)
        assert chunk, "the connection closed without a close frame"
        raw += chunk
        while len(raw) >= 9:
            frame, length = Frame.parse_frame_header(memoryview(raw[:9]))
            if len(raw) < 9 + length:
                break
            frame.parse_body(memoryview(raw[9:9 + length]))
            raw = raw[9 + length:]
            if isinstance(frame, DataFrame) and frame.stream_id == ws.sid:
                payload += frame.data
    assert close_code_of(payload[2:4]) == 1001
    # Long before the 30 s shutdown timeout that cuts connections still open.
    assert server.wait_exit(timeout=10) == 0
