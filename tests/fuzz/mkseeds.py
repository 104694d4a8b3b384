#!/usr/bin/env python3
"""mkseeds.py: writes the seed corpora tests/fuzz/corpus/TARGET/ (committed; rerun after a format change).

Each seed is a well-formed input in the target's input format (see the comment at the top
of tests/fuzz/fuzz_TARGET.c and tests/fuzz/fuzz_virtio.h): good requests, so that the
fuzzer starts deep in each parser instead of at its first check.
"""
import os
import struct
import sys

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def u8(v): return struct.pack("<B", v & 0xff)
def u16(v): return struct.pack("<H", v & 0xffff)
def u32(v): return struct.pack("<I", v & 0xffffffff)
def u64(v): return struct.pack("<Q", v & 0xffffffffffffffff)


def write(target, name, data):
    d = os.path.join(TOP, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- the fuzzed virtio driver (fuzz_virtio.c): header, then operations ----

ALL = 0xffffffffffffffff
QSEL16 = 4                      # queue size 1 << 4


def dev(ops, features=ALL, qsel=QSEL16):
    return u64(features) + u8(qsel) + b"".join(ops)


def rd(data):                   # a readable buffer, u16 length coding
    return u8(0b010) + u16(len(data)) + data


def wr(n):                      # a writable buffer of n bytes
    return u8(0b011) + u16(n)


def raw(gpa_off, n, writable=False):   # a buffer at a raw guest address (RAM base + gpa_off)
    return u8(0x10 | 0b010 | (1 if writable else 0)) + u16(n) + u32(gpa_off)


def chain(q, descs, indirect=False, kick=True):
    """Publishes a chain on queue q (op 11: chain + kick + poll; op 0: chain only)."""
    op = (11 if kick else 0) | (q << 4)
    return u8(op) + u8((len(descs) - 1) | (0x80 if indirect else 0)) + b"".join(descs)


def kick(q): return u8(4 | (q << 4))
def poll(): return u8(6)
def cfg_read(off, size): return u8(7) + u8({1: 0, 2: 1, 4: 2, 8: 3}[size]) + u8(off)
def cfg_write(off, data): return u8(8) + u8({1: 0, 2: 1, 4: 2, 8: 3}[len(data)]) + u8(off) + data
def hook(data): return u8(9) + data
def reset(): return u8(10)


def blk():
    def hdr(t, sector): return struct.pack("<IIQ", t, 0, sector)
    write("blk", "read", dev([chain(0, [rd(hdr(0, 0)), wr(512), wr(1)])]))
    write("blk", "write-read", dev([chain(0, [rd(hdr(1, 8)), rd(b"\x5a" * 1024), wr(1)]),
                                     chain(0, [rd(hdr(0, 8)), wr(1024), wr(1)])]))
    write("blk", "flush-getid", dev([chain(0, [rd(hdr(4, 0)), wr(1)]),
                                     chain(0, [rd(hdr(8, 0)), wr(20), wr(1)])]))
    seg = struct.pack("<QII", 16, 8, 0)
    write("blk", "discard-zeroes", dev([chain(0, [rd(hdr(11, 0)), rd(seg), wr(1)]),
                                        chain(0, [rd(hdr(13, 0)), rd(seg + seg), wr(1)])]))
    write("blk", "indirect-split", dev([chain(0, [rd(hdr(0, 127)[:8]), rd(hdr(0, 127)[8:]),
                                                  wr(256), wr(256), wr(1)], indirect=True)]))
    write("blk", "beyond-end", dev([chain(0, [rd(hdr(0, 128)), wr(512), wr(1)]),
                                    cfg_read(0, 8), reset(),
                                    chain(0, [rd(hdr(1, 0)), rd(b"x" * 100), wr(1)])]))


def net():
    vhdr = bytes(12)
    frame = bytes.fromhex("525400123456" "525400abcdef" "0800") + bytes(46)
    csum_hdr = struct.pack("<BBHHHHH", 1, 0, 0, 0, 34, 16, 1)   # NEEDS_CSUM at 34+16
    gso_hdr = struct.pack("<BBHHHHH", 1, 1, 54, 1448, 34, 16, 1)
    ctrl = 4                                                     # 2 pairs: rx0 tx0 rx1 tx1 ctrl
    write("net", "tx", dev([chain(1, [rd(vhdr + frame)]),
                            chain(1, [rd(vhdr), rd(frame)]),
                            chain(1, [rd(csum_hdr + frame + bytes(40))])]))
    write("net", "tx-gso", dev([chain(1, [rd(gso_hdr), rd(frame + bytes(1500))], indirect=True)]))
    write("net", "rx", dev([chain(0, [wr(1526)]), chain(0, [wr(12), wr(1514)]),
                            hook(u8(0) + u16(len(frame)) + frame), poll(),
                            hook(u8(0) + u16(len(vhdr + frame)) + vhdr + frame), poll()]))
    write("net", "ctrl-rx", dev([chain(ctrl, [rd(b"\x00\x00\x01"), wr(1)]),      # promisc on
                                 chain(ctrl, [rd(b"\x00\x01\x01"), wr(1)]),      # allmulti
                                 chain(ctrl, [rd(b"\x00\x05\x01"), wr(1)])]))    # nobcast
    macs = u32(1) + bytes.fromhex("525400aaaaaa") + u32(2) + bytes.fromhex("01005e000001" "333300000001")
    write("net", "ctrl-mac", dev([chain(ctrl, [rd(b"\x01\x00"), rd(macs), wr(1)]),
                                  chain(ctrl, [rd(b"\x01\x01" + bytes.fromhex("525400bbbbbb")), wr(1)])]))
    write("net", "ctrl-mq-offloads", dev([chain(ctrl, [rd(b"\x04\x00" + u16(2)), wr(1)]),
                                          chain(ctrl, [rd(b"\x05\x00" + u64(0x3)), wr(1)]),
                                          chain(3, [rd(vhdr + frame)]), cfg_read(0, 8)]))


def scsi():
    lun = bytes([1, 0, 0x40, 0, 0, 0, 0, 0])

    def req(cdb, tag=1):
        return lun + u64(tag) + bytes([0, 0, 0]) + cdb.ljust(32, b"\0")

    resp = 108          # sense_len, resid, status_qualifier, status, response, sense[96]
    cmds = {
        "inquiry": bytes.fromhex("120000002400"),
        "tur-sense": bytes.fromhex("000000000000"),
        "read-capacity": bytes.fromhex("25000000000000000000"),
        "read10": bytes.fromhex("28000000000200000200"),
        "read-toc": bytes.fromhex("430200000000000324"[:18] + "00"),
        "get-config": bytes.fromhex("46020000000000000800"),
        "mode-sense": bytes.fromhex("5a003f00000000010000"),
        "report-luns": bytes.fromhex("a0000000000000000100" + "0000"),
    }
    for name, cdb in cmds.items():
        write("scsi", name, dev([chain(2, [rd(req(cdb)), wr(resp), wr(4096)]),
                                 chain(2, [rd(req(bytes.fromhex("0300000012" "00"), 2)), wr(resp), wr(18)])]))
    tmf = u32(0) + u32(4) + lun + u64(1)                # TMF, LOGICAL UNIT RESET
    an = u32(1) + lun + u32(0x10)                       # AN query, media events
    write("scsi", "control", dev([chain(0, [rd(tmf), wr(1)]), chain(0, [rd(an), wr(5)]),
                                  chain(1, [wr(16)], kick=True),
                                  cfg_write(24, u32(16)), cfg_write(20, u32(64)), cfg_read(0, 4)]))
    bad_lun = bytes([1, 3, 0x40, 5, 0, 0, 0, 0])
    write("scsi", "bad-target", dev([chain(2, [rd(bad_lun + u64(9) + bytes(35)), wr(resp)])]))


def balloon():
    pfns = b"".join(u32(0x100 + 8 + i) for i in range(8))
    stats = b"".join(u16(t) + u64(v) for t, v in [(0, 0), (4, 1 << 20), (5, 1 << 30), (6, 2)])
    write("balloon", "inflate-deflate", dev([hook(u32(1 << 12)), cfg_read(0, 4),
                                             chain(0, [rd(pfns)]), cfg_write(4, u32(8)),
                                             chain(1, [rd(pfns[:16])]), cfg_write(4, u32(4))]))
    write("balloon", "stats", dev([chain(2, [rd(stats)]), poll(), chain(2, [rd(stats[:10])])]))
    write("balloon", "report", dev([chain(3, [raw(0x20000, 4096, True), raw(0x30000, 8192, True)]),
                                    chain(3, [raw(0x3f000, 8192, True)])]))


def console():
    write("console", "tx", dev([chain(1, [rd(b"hello from hvc0\r\n")]),
                                chain(1, [rd(b"a" * 300), rd(b"b" * 10)], indirect=True)]))
    write("console", "rx", dev([chain(0, [wr(64)]), hook(u8(8 << 1) + b"input line\n".ljust(32, b"!")),
                                poll(), chain(0, [wr(8)]), hook(u8(1) + u16(132) + u16(43)),
                                cfg_read(0, 4), cfg_write(8, u32(ord("x")))]))


def rng():
    write("rng", "fill", dev([chain(0, [wr(16)]), chain(0, [wr(4096), wr(100)]),
                              chain(0, [wr(64)], indirect=True)]))
    write("rng", "readable", dev([chain(0, [rd(b"not for rng")]), reset(), chain(0, [wr(8)])]))


# ---- the raw ring (fuzz_virtqueue.c): 16-byte header, 32 control bytes, guest RAM ----

def virtqueue():
    base = 0x10000
    qsize = 8

    def desc(addr, ln, flags, nxt=0): return struct.pack("<QIHH", base + addr, ln, flags, nxt)
    NEXT, WRITE, INDIRECT = 1, 2, 4
    for feat, name in [(0x07, "indirect-eventidx"), (0x05, "indirect")]:
        ram = bytearray(0x800)
        descs = [desc(0x400, 64, NEXT, 1), desc(0x440, 32, WRITE),
                 desc(0x500, 32, INDIRECT), desc(0x480, 16, NEXT, 4), desc(0x490, 16, WRITE | NEXT, 5),
                 desc(0x4a0, 16, WRITE)]
        for i, d in enumerate(descs):
            ram[16 * i:16 * i + 16] = d
        ram[0x500:0x520] = desc(0x600, 100, NEXT, 1) + desc(0x680, 50, WRITE)
        avail = 16 * qsize
        used = (avail + 6 + 2 * qsize + 3) & ~3
        ram[avail:avail + 10] = u16(0) + u16(3) + u16(0) + u16(2) + u16(3)
        ram[avail + 4 + 2 * qsize:avail + 6 + 2 * qsize] = u16(1)     # used_event
        hdr = u8(3) + u8(feat) + u16(qsize) + u16(0) + u16(0) + u16(0)
        ctl = bytes(range(32))
        write("virtqueue", name, hdr.ljust(16, b"\0") + ctl + bytes(ram))
    # A loop: descriptor 0 -> 1 -> 0.
    ram = bytearray(0x200)
    ram[0:32] = desc(0x100, 8, NEXT, 1) + desc(0x108, 8, NEXT, 0)
    ram[128:134] = u16(0) + u16(1) + u16(0)
    write("virtqueue", "loop", (u8(3) + u8(4) + u16(8)).ljust(16, b"\0") + bytes(32) + bytes(ram))


# ---- virtio-pci (fuzz_virtio_pci.c): a driver's probe, one request, MSI-X ----

def virtio_pci():
    def cfgw(off, val, size): return u8(0 | ({1: 0, 2: 1, 4: 2}[size] << 4)) + u8(off) + u32(val)
    def cfgr(off, size): return u8(1 | ({1: 0, 2: 1, 4: 2}[size] << 4)) + u8(off)
    def bar0w(off, data): return u8(2 | 8 | ({1: 0, 2: 1, 4: 2, 8: 3}[len(data)] << 4)) + u16(off) + data
    def bar0r(off, size): return u8(2 | ({1: 0, 2: 1, 4: 2, 8: 3}[size] << 4)) + u16(off)
    def bar1w(off, data): return u8(4 | 8 | ({1: 0, 2: 1, 4: 2, 8: 3}[len(data)] << 4)) + u16(off) + data
    def ram(at, data): return u8(5) + u16(at) + u8(len(data)) + data

    probe = [cfgw(4, 6, 2), cfgr(0x34, 1), cfgr(0x40, 4),
             bar0w(0x14, u8(1)), bar0w(0x14, u8(3)), bar0r(0x04, 4),
             bar0w(0x08, u32(1)), bar0w(0x0c, u32(1)), bar0w(0x14, u8(0xb)), bar0r(0x14, 1),
             bar0w(0x16, u16(0)), bar0w(0x18, u16(16)), bar0w(0x1a, u16(1)),
             bar0w(0x20, u64(0x1000)), bar0w(0x28, u64(0x1100)), bar0w(0x30, u64(0x1200)),
             bar0w(0x1c, u16(1)), bar0w(0x10, u16(0)),
             bar1w(0x10, u32(0xfee00000)), bar1w(0x14, u32(0)), bar1w(0x18, u32(0x41)), bar1w(0x1c, u32(0)),
             bar0w(0x14, u8(0xf))]
    request = [ram(0x1000, struct.pack("<QIHH", 0x2000, 64, 2, 0)),
               ram(0x1100, u16(0) + u16(1) + u16(0)),
               bar0w(0x3000, u16(0)), u8(6), bar0r(0x1000, 1), bar0r(0x15, 1)]
    for kind in range(3):
        write("virtio_pci", "probe-request-%d" % kind, u8(kind) + b"".join(probe + request))
    write("virtio_pci", "bars-reset", u8(0) + b"".join(probe[:1] + [
        cfgw(0x10, 0xffffffff, 4), cfgr(0x10, 4), cfgw(0x10, 0xd0000000, 4), cfgw(0x14, 0xd0004000, 4)] +
        probe[3:] + [bar0w(0x14, u8(0)), bar0r(0x14, 1)]))
    # The PCI-config access capability (virtio_pci_cfg_cap), its window into BAR 0.
    write("virtio_pci", "cfg-window", u8(1) + b"".join(probe[:3] + [cfgr(0x34, 1)] + [
        cfgw(0x80 + 4, 0, 1), cfgw(0x80 + 8, 0x14, 4), cfgw(0x80 + 12, 1, 4), cfgw(0x80 + 16, 1, 1),
        cfgr(0x80 + 16, 1)]))


# ---- fw_cfg (fuzz_fw_cfg.c): u16 RAM length, RAM, then port accesses ----

def fw_cfg():
    def op(port, width, write_data=None):
        w = {1: 0, 2: 1, 4: 2}[width]
        return u8((1 if write_data is not None else 0) | (w << 1) | ((port - 0x510) << 3)) + (write_data or b"")
    access = struct.pack(">IIQ", (0x19 << 16) | 0x08 | 0x02, 64, 0x100)
    skip_read = struct.pack(">IIQ", (0x20 << 16) | 0x08 | 0x04, 8, 0) + struct.pack(">IIQ", 0x02, 16, 0x200)
    write("fw_cfg", "dma-dir", u16(len(access)) + access +
          op(0x514, 4, struct.pack(">I", 0)) + op(0x518, 4, struct.pack(">I", 0)))
    write("fw_cfg", "dma-skip", u16(len(skip_read)) + skip_read +
          op(0x514, 4, bytes(4)) + op(0x518, 4, struct.pack(">I", 0)) +
          op(0x514, 4, bytes(4)) + op(0x518, 4, struct.pack(">I", 16)))
    write("fw_cfg", "ports", u16(0) + op(0x510, 2, u16(0)) + op(0x511, 1) * 4 +
          op(0x510, 2, u16(0x19)) + op(0x511, 4) * 3 + op(0x514, 4) + op(0x518, 4) +
          op(0x510, 2, u16(0x8002)) + op(0x511, 1))


# ---- files ----

def bzimage():
    setup_sects, pm = 3, 1024
    img = bytearray((setup_sects + 1) * 512 + pm)
    img[0x1f1] = setup_sects
    img[0x1f4:0x1f8] = u32(pm // 16)
    img[0x1fe:0x200] = u16(0xAA55)
    img[0x200], img[0x201] = 0xeb, 0x6a
    img[0x202:0x206] = b"HdrS"
    img[0x206:0x208] = u16(0x020f)
    img[0x20e:0x210] = u16(0x600 - 0x200)
    kver = b"6.1.0-fuzz (hvrun) #1 SMP\0"
    img[0x600:0x600 + len(kver)] = kver
    img[0x211] = 1
    img[0x214:0x218] = u32(0x100000)
    img[0x22c:0x230] = u32(0x7fffffff)
    img[0x230:0x234] = u32(2 << 20)
    img[0x234], img[0x235] = 1, 21
    img[0x236:0x238] = u16(3)
    img[0x238:0x23c] = u32(2047)
    img[0x258:0x260] = u64(16 << 20)
    img[0x260:0x264] = u32(1 << 20)
    cmd = b"console=ttyS0 root=/dev/vda"
    write("bzimage", "kernel", bytes(img))
    write("bzimage", "kernel-cmdline-initrd", bytes(img) + u8(len(cmd) // 2) + cmd[:len(cmd) // 2 * 2] +
          b"070701" + bytes(100))
    old = bytearray(img)
    old[0x206:0x208] = u16(0x0206)
    write("bzimage", "protocol-2.06", bytes(old))


def iso9660():
    def vd(t, body=b""): return (u8(t) + b"CD001" + u8(1) + body).ljust(2048, b"\0")
    pvd = vd(1, b"\0" + b"LINUX".ljust(32) + b"DEBIAN 12 AMD64".ljust(32))
    write("iso9660", "pvd", u8(0) + pvd + vd(255))
    write("iso9660", "boot-then-pvd", u8(0) + vd(0, b"EL TORITO SPECIFICATION".ljust(32, b"\0")) + pvd + vd(255))
    write("iso9660", "odd-size", u8(1) + pvd[:1000])


def options():
    def argv(*a): return b"\0".join(x.encode() for x in a)
    f = "/tmp/hvrun-fuzz-options/"     # regular files fuzz_options.c creates
    write("options", "kernel", argv("-m", "256M", "-c", "2", "-k", f + "k", "-i", f + "i", "-a", "console=hvc0 quiet"))
    write("options", "disks", argv("-k", f + "k", "-d", f + "d,ro,serial=abc", "-d",
                                   f + "e,cache=writeback", "--console", "virtio", "--no-rng"))
    write("options", "net", argv("-k", f + "k", "--net", "user,hostfwd=tcp:127.0.0.1:5555-:22,mac=52:54:00:00:00:01",
                                 "-t", "tap3", "--mac", "02:00:00:00:00:02", "--net", "tap=tap4,queues=2"))
    write("options", "firmware", argv("-d", f + "d", "--cdrom", f + "c", "--boot", "order=dc,once=d,menu=on",
                                      "--name", "vm-1", "--rtc", "localtime", "--no-reboot"))
    write("options", "misc", argv("--raw", f + "r", "--trace", "virtio,boot", "--hugepages", "--user", "0",
                                  "--control", "/tmp/x.sock", "-v"))


def control():
    lines = ['{"cmd":"status","id":1}', '{"cmd":"pause"}', '{"cmd":"resume"}',
             '{"cmd":"balloon","size":"256M"}', '{"cmd":"balloon","size":1048576}',
             '{"cmd":"balloon-stats"}', '{"cmd":"stats"}', '{"cmd":"disk-resize","drive":"vdb"}',
             '{"cmd":"powerdown"}', '{"cmd":"reset"}', '{"cmd":"stop"}']
    write("control", "all-commands", "\n".join(lines).encode())
    write("control", "errors", b'{"cmd":"nope"}\n[1,2]\n{"cmd":"balloon","size":"12Q"}\n{bad json\n'
          b'{"cmd":"disk-resize","drive":"vdz"}\n{"cmd":"status","cmd":"stop"}')
    write("control", "console", b'{"cmd":"console"}')


# ---- port I/O (fuzz_legacy.c): op = write | width << 1 | port index << 3 ----

def legacy():
    ports = [0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff, 0x70, 0x71,
             0xcf8, 0xcf9, 0xcfa, 0xcfb, 0xcfc, 0xcfd, 0xcfe, 0xcff]

    def io(port, width, data=None):
        return u8((1 if data is not None else 0) | ({1: 0, 2: 1, 4: 2}[width] << 1) |
                  (ports.index(port) << 3)) + (data or b"")
    rx = u8(len(ports) << 3) + u8(5) + b"hello"
    write("legacy", "uart", io(0x3fb, 1, b"\x80") + io(0x3f8, 1, b"\x01") + io(0x3fb, 1, b"\x03") +
          io(0x3f9, 1, b"\x0f") + io(0x3fa, 1, b"\xc7") + io(0x3f8, 1, b"A") + io(0x3fa, 1) +
          rx + io(0x3fd, 1) + io(0x3f8, 1) * 3 + io(0x3fe, 1) + io(0x3fc, 1, b"\x10") + io(0x3f8, 1, b"B"))
    write("legacy", "rtc", b"".join(io(0x70, 1, bytes([r])) + io(0x71, 1) for r in (0, 2, 4, 6, 7, 8, 9, 0x0a, 0x0b,
                                                                                  0x0c, 0x0d, 0x32, 0x34, 0x35, 0x5b)) +
          io(0x70, 1, b"\x0b") + io(0x71, 1, b"\x82") + io(0x70, 1, b"\x00") + io(0x71, 1, b"\x30") +
          io(0x70, 1, b"\x0b") + io(0x71, 1, b"\x02"))
    write("legacy", "pci", b"".join(io(0xcf8, 4, u32(0x80000000 | dev << 11 | reg)) + io(0xcfc, 4)
                                    for dev in (0, 1, 2) for reg in (0, 8, 0x10, 0x2c, 0x3c)) +
          io(0xcf8, 4, u32(0x80000804)) + io(0xcfc, 2, u16(7)) + io(0xcfe, 2) + io(0xcf8, 4, u32(0x80000010)) +
          io(0xcfc, 4, u32(0xffffffff)) + io(0xcfc, 4) + io(0xcf9, 1, b"\x06"))


def main():
    for fn in (blk, net, scsi, balloon, console, rng, virtqueue, virtio_pci, fw_cfg, bzimage, iso9660,
               options, control, legacy):
        fn()
    # The CD-ROM's command set alone (fuzz_scsi_cdb.c): hdr, cdb length, din length, cdb, splits.
    def cmd(cdb, din, hdr=1): return u8(hdr) + u8(len(cdb)) + u16(din) + cdb + u8(128) * (hdr & 3)
    seqs = {"inquiry-vpd": [bytes.fromhex("120000002400"), bytes.fromhex("120180000400"), bytes.fromhex("120183000400")],
            "read": [bytes.fromhex("000000000000"), bytes.fromhex("28000000000100000200"),
                     bytes.fromhex("a8000000000000000001" "0000"), bytes.fromhex("88" + "00" * 8 + "0000000100" + "00")],
            "mmc": [bytes.fromhex("46020000000000000800"), bytes.fromhex("4a01000000100000080" + "0"),
                    bytes.fromhex("43020000000000032400"), bytes.fromhex("51000000000000002000"),
                    bytes.fromhex("bd0000000000000000080" + "0"), bytes.fromhex("1e0000000100")],
            "sense-capacity": [bytes.fromhex("0300000012" "00"), bytes.fromhex("25000000000000000000"),
                               bytes.fromhex("9e10000000000000000000000020" "0000"), bytes.fromhex("5a003f00000000010000")]}
    for name, cdbs in seqs.items():
        write("scsi_cdb", name, b"".join(cmd(c, 4096, hdr=i % 4) for i, c in enumerate(cdbs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
