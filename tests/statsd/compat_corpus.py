"""The compatibility corpus: packets sent to both the reference statsd 0.9.0
and stopgap statsd. Every type, sample rates, gauge deltas, sets, bad lines,
odd names, tags, several values per line, several lines per packet, and the
reference's quirks. (Inputs that crash the reference are left out; see
docs/statsd.md.)"""

PACKETS = [
    # counters
    b"c.plain:1|c",
    b"c.plain:2|c",
    b"c.float:0.1|c\nc.float:0.2|c",
    b"c.rate:5|c|@0.5",
    b"c.rate01:1|c|@0.1\nc.rate01:1|c|@0.1\nc.rate01:1|c|@0.1",
    b"c.rate3:1|c|@0.3",
    b"c.neg:-5|c\nc.neg:2|c",
    b"c.big:12345678901234567890|c",
    b"c.exp:1e3|c\nc.hex:0x10|c\nc.dotfirst:.5|c\nc.dotlast:5.|c",
    b"c.space: 7 |c",
    b"c.blank: |c",
    b"c.inf:Infinity|c",
    b"c.tiny:0.0000001|c\nc.tiny2:1e-7|c\nc.small:0.000001|c",
    b"c.huge:1e21|c\nc.huge2:123456789012345680000|c",
    b"c.nocolon|c",
    b"multi:1|c:2|c:3|ms",
    b"c.rate_exp:1|c|@1e-1",
    b"c.rate_hex:1|c|@0x2",
    b"c.rate_extra:1|c|@0.5|extra",
    # unknown types (counted as counters by the reference) and odd type fields
    b"h.hist:3|h\nd.dist:4|d\nx.other:2|x\nc.empty_type:9|",
    b"c.crlf:1|c\r\nt.crlf:20|ms\r\ng.crlf:3|g\r\n",
    b"t.spacetype:15|ms \ng.spacetype:8| g",
    # timers
    b"t.one:100|ms",
    b"t.many:1|ms\nt.many:2|ms\nt.many:3|ms\nt.many:4|ms\nt.many:5|ms\nt.many:6|ms\nt.many:7|ms"
    b"\nt.many:8|ms\nt.many:9|ms\nt.many:10|ms\nt.many:11|ms",
    b"t.float:0.1|ms\nt.float:0.2|ms\nt.float:0.3|ms",
    b"t.rate:10|ms|@0.1\nt.rate:20|ms|@0.1",
    b"t.two:5|ms\nt.two:7|ms",
    b"t.render.hist:0.005|ms\nt.render.hist:0.05|ms\nt.render.hist:0.5|ms\nt.render.hist:5|ms"
    b"\nt.render.hist:50|ms",
    b"t.multi:1|ms:2|ms:3|ms",
    # gauges and deltas
    b"g.abs:10|g",
    b"g.abs:20|g",
    b"g.delta:5|g\ng.delta:+3|g\ng.delta:-1|g",
    b"g.deltafirst:+4|g",
    b"g.negfirst:-4|g",
    b"g.zero:0|g\ng.zero:+2|g",
    b"g.float:0.1|g\ng.float:+0.2|g",
    b"g.rate:3|g|@0.5",
    # sets
    b"s.users:alice|s\ns.users:bob|s\ns.users:alice|s",
    b"s.empty:|s",
    b"s.numbers:1|s\ns.numbers:01|s\ns.numbers:1.0|s",
    b"s.proto:__proto__|s\ns.proto:x|s",
    # bad lines
    b"garbage",
    b"bad.rate:1|c|@abc",
    b"bad.rate2:1|c|@-0.5",
    b"bad.rate3:1|c|",
    b"bad.value:abc|c",
    b"bad.timer:-5|ms",
    b"bad.gauge:x|g",
    b"bad.mixed:1|c:x|c:3|c",
    b"bad.hexsign:-0x10|c",
    b"\n\n\n",
    b":1|c",
    # odd names
    b"name with spaces:1|c",
    b"name/with/slashes:1|c",
    b"name!@$%^&*()chars:1|c",
    b"tab\tsep:1|c",
    b"ws  \t  run:1|c",
    b"ws ! run:1|c",
    "unicode\u00a0nbsp:1|c".encode(),
    "caf\u00e9.latte:1|c".encode(),
    "ideo\u3000space:1|c".encode(),
    b"bytes\xff\xfe.bad:1|c",
    b"dots..and__underscores:1|c",
    b"eq=and;semi:1|c",
    # tags (DogStatsD style) become Graphite tags
    b"tagged.c:1|c|#env:prod,region:eu",
    b"tagged.t:5|ms|#env:prod",
    b"tagged.g:5|g|#env:prod",
    b"tagged.s:a|s|#env:prod",
    b"tagged.odd:1|c|#k:v:w,semi;colon,plain,,",
    b"tagged.sp:1|c|#my tag:my value",
    b"tagged.empty:1|c|#",
    b"tagged.rate:1|c|@0.5|#env:x",
    b"tagged.twice:1|c|#a:b|#c:d",
    # multi-line mixed packet
    b"mix.a:1|c\nmix.b:2|ms\nmix.c:3|g\nmix.d:x|s\nbadline\nmix.e:4|c|@0.25",
    # the internal counters can be fed by clients too
    b"statsd.packets_received:100|c",
]
