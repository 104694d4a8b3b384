#!/usr/bin/env python3
"""boot_report.py: the reporting half of bench/boot.

    boot_report.py --raw DIR --runs N --mode direct|lab --kernel-version V --date D
                   [--lab-status RC] [--firmware 0|1] [--csv FILE] [--plot-prefix PREFIX]

Reads what bench/boot-inner.sh left in DIR (VMM-R.json, VMM-R.exit.hist, VMM-R.pio.hist,
for the firmware boots VMM-R.exit.hist.bl / .pio.hist.bl, meta.env, done), prints a
markdown report on stdout -- the direct kernel boots (hvrun, QEMU q35, QEMU microvm), then
the firmware boots (hvrun-fw, qemu-fw: SeaBIOS + GRUB from a virtio-scsi CD) -- writes
every run's numbers to the CSV (one row per boot: times, status, memory, exits by reason,
exits by I/O port, for firmware boots also those up to GRUB's line), and
PREFIX-times.dat / PREFIX-exits.dat for bench/boot_plot.gp.

Exit reasons are named from the SVM exit codes in the kernel's uapi header
<asm/svm.h> (linux-libc-dev), read at run time.  The kvm_exit/kvm_pio histograms are
keyed by the thread id too; only the threads of the boot's own VMM process count.
Exit status: 0 if every expected boot is there and ok, else 1.
"""
import argparse
import csv
import json
import os
import re
import statistics
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from reportlib import SVM_H, hist_entries, lab_status_lines, svm_exit_names  # noqa: E402

DIRECT = [("hvrun", "hvrun"), ("qemu-q35", "QEMU q35"), ("qemu-microvm", "QEMU microvm")]
FIRMWARE = [("hvrun-fw", "hvrun fw"), ("qemu-fw", "QEMU pc fw")]
# The direct-boot row each firmware row is compared with (same VMM).
FW_PEER = {"hvrun-fw": "hvrun", "qemu-fw": "qemu-q35"}
PCI_CFG_PORTS = range(0xcf8, 0xd00)

# Legacy PC I/O ports: what the guest was talking to.
PORT_NAMES = [
    (0x20, 0x21, "PIC1"), (0xa0, 0xa1, "PIC2"), (0x40, 0x43, "PIT"), (0x61, 0x61, "port B"),
    (0x60, 0x60, "i8042 data"), (0x64, 0x64, "i8042 cmd"),
    (0x70, 0x70, "RTC index"), (0x71, 0x71, "RTC data"), (0x80, 0x80, "POST/delay"),
    (0x2e, 0x2f, "Super I/O cfg"), (0x4e, 0x4f, "Super I/O cfg"),
    (0x3f8, 0x3ff, "COM1"), (0x2f8, 0x2ff, "COM2"), (0x3e8, 0x3ef, "COM3"),
    (0x2e8, 0x2ef, "COM4"), (0x378, 0x37f, "LPT1"), (0x3b4, 0x3df, "VGA"),
    (0x1f0, 0x1f7, "IDE0"), (0x3f6, 0x3f6, "IDE0 ctl"), (0x3f0, 0x3f5, "floppy"),
    (0x4d0, 0x4d1, "ELCR"), (0x92, 0x92, "port A (A20)"), (0xb2, 0xb3, "APM/SMI cmd"), (0x510, 0x511, "fw_cfg"), (0x402, 0x402, "SeaBIOS debug"),
    (0x600, 0x607, "ACPI PM1a"),
    (0x608, 0x60b, "ACPI PM timer"), (0xb000, 0xb007, "ACPI PM1a (PIIX4)"),
    (0xb008, 0xb00b, "ACPI PM timer (PIIX4)"),
    (0xcf8, 0xcfb, "PCI config addr"), (0xcfc, 0xcff, "PCI config data"),
    (0xcf9, 0xcf9, "reset ctl"),
]
COM_REGS = ["THR/RBR", "IER", "IIR/FCR", "LCR", "MCR", "LSR", "MSR", "SCR"]


def port_name(p):
    if 0x3f8 <= p <= 0x3ff:
        return "COM1 " + COM_REGS[p - 0x3f8]
    if p == 0xcf9:
        return "reset ctl"
    for lo, hi, n in PORT_NAMES:
        if lo <= p <= hi:
            return n
    return ""


def parse_hist(path, key, tids):
    """{key value: hits} for the entries whose common_pid is one of tids (all if no tids);
    None if there is no histogram."""
    entries = hist_entries(path)
    if entries is None:
        return None
    out = {}
    for parsed, hits in entries:
        fields = {k: n for k, _v, n in parsed}
        if tids and fields.get("common_pid") not in tids:
            continue
        kv = fields.get(key)
        if kv is not None:
            out[kv] = out.get(kv, 0) + hits
    return out


def vmm_error(path):
    """The VMM's first error-looking stderr line (else its last line), for a failed boot."""
    try:
        lines = [l.strip() for l in open(path, errors="replace") if l.strip()]
    except OSError:
        return ""
    if not lines:
        return ""
    hit = next((l for l in lines if re.search(r"error|fail|cannot|unable", l, re.I)), lines[-1])
    return hit[:160].replace("`", "'")


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_s(x):
    return "n/a" if x is None else "%.2f" % x


def fmt_n(x):
    return "n/a" if x is None else "%d" % round(x)


def top_items(d, n):
    return sorted(d.items(), key=lambda kv: -kv[1])[:n]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--kernel-version", required=True)
    ap.add_argument("--date", required=True)
    ap.add_argument("--lab-status", type=int, default=0,
                    help="exit status of the measuring step (lab.sh or boot-inner.sh)")
    ap.add_argument("--elapsed", help="wall time of the measuring step, for the header")
    ap.add_argument("--firmware", choices=("0", "1"),
                    help="whether firmware boots were asked for (default: meta.env's iso=)")
    ap.add_argument("--csv")
    ap.add_argument("--plot-prefix")
    ap.add_argument("--svm-h", default=SVM_H)
    a = ap.parse_args()

    names = svm_exit_names(a.svm_h)
    rname = lambda c: names.get(c, "0x%x" % c)
    meta = {}
    try:
        for line in open(os.path.join(a.raw, "meta.env")):
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    except OSError:
        pass
    finished = os.path.exists(os.path.join(a.raw, "done"))
    tracing = meta.get("tracing") == "1"
    firmware = (a.firmware == "1") if a.firmware else bool(meta.get("iso"))
    VMMS = DIRECT + (FIRMWARE if firmware else [])

    # ---- Load every boot ----
    boots = {v: [] for v, _ in VMMS}
    for v, _ in VMMS:
        fw = v in dict(FIRMWARE)
        for r in range(1, a.runs + 1):
            b = {"vmm": v, "run": r}
            try:
                b.update(json.load(open(os.path.join(a.raw, f"{v}-{r}.json"))))
            except (OSError, ValueError):
                if a.lab_status == 124:
                    b["status"] = "no result (lab hang)"
                elif a.lab_status == 125:
                    b["status"] = "no result (lab harness error)"
                else:
                    b["status"] = "no result (measuring step exit %d)" % a.lab_status
            tids = set(b.get("tids") or [])
            base = os.path.join(a.raw, f"{v}-{r}")
            b["exits"] = parse_hist(base + ".exit.hist", "exit_reason", tids)
            b["ports"] = parse_hist(base + ".pio.hist", "port", tids)
            # Firmware boots: the histograms as they were at GRUB's line.
            b["exits_bl"] = parse_hist(base + ".exit.hist.bl", "exit_reason", tids) if fw else None
            b["ports_bl"] = parse_hist(base + ".pio.hist.bl", "port", tids) if fw else None
            for k in ("exits", "ports", "exits_bl", "ports_bl"):
                tk = {"exits": "exits_total", "ports": "pio_total",
                      "exits_bl": "exits_bl_total", "ports_bl": "pio_bl_total"}[k]
                b[tk] = sum(b[k].values()) if b[k] is not None else None
            boots[v].append(b)

    # ---- Summaries over the ok boots ----
    summ = {}
    all_reasons, all_ports = {}, {}
    for v, _ in VMMS:
        ok = [b for b in boots[v] if b.get("status") == "ok"]
        s = {"n_ok": len(ok), "n": len(boots[v])}
        for k in ("marker_s", "exit_s", "bootloader_s", "own_rss_mib", "own_rss_peak_mib",
                  "guest_rss_mib", "exits_total", "pio_total", "exits_bl_total", "pio_bl_total"):
            s[k] = med([b.get(k) for b in ok])
        for k in ("marker_s", "exit_s", "bootloader_s"):
            xs = [b.get(k) for b in ok if b.get(k) is not None]
            s[k + "_min"] = min(xs) if xs else None
            s[k + "_max"] = max(xs) if xs else None
        for what, agg in (("exits", all_reasons), ("ports", all_ports),
                          ("exits_bl", None), ("ports_bl", None)):
            keys = set()
            for b in ok:
                keys.update((b[what] or {}).keys())
            m = {}
            for key in keys:
                m[key] = statistics.median([(b[what] or {}).get(key, 0) for b in ok])
                if agg is not None:
                    agg[key] = agg.get(key, 0) + sum((b[what] or {}).get(key, 0) for b in ok)
            s[what] = m
        summ[v] = s

    f1 = lambda x, f="%.1f": "n/a" if x is None else f % x

    def rng(s, k):
        if s[k] is None:
            return "n/a"
        return "%s [%s-%s]" % (fmt_s(s[k]), fmt_s(s[k + "_min"]), fmt_s(s[k + "_max"]))

    def top_reasons(s, n=6, what="exits"):
        return ", ".join("%s %d" % (rname(c), round(x)) for c, x in top_items(s[what], n)) or "n/a"

    def top_ports(s, n=8, what="ports"):
        return ", ".join("0x%x%s %d" % (pt, " " + port_name(pt) if port_name(pt) else "", round(x))
                         for pt, x in top_items(s[what], n)) or "n/a"

    # ---- Report ----
    out = []
    p = out.append
    p("# bench/boot: boot to a marker line and power off, %s" % (
        "straight into the kernel and through the firmware" if firmware else "three VMMs"))
    p("")
    where = a.mode
    if a.mode == "lab":
        where += (" (tests/lab/lab.sh: nested KVM on QEMU TCG -cpu max,family=20,-erms,-fsrm, one session; lab "
                  "kernel %s, guest CPU \"%s\" family %s model %s)"
                  % (meta.get("where_kernel", "?"), meta.get("cpu_model_name", "?"),
                     meta.get("cpu_family", "?"), meta.get("cpu_model", "?")))
    else:
        where += " (host KVM: %s, CPU \"%s\")" % (meta.get("kvm_module", "?"),
                                                 meta.get("cpu_model_name", "?"))
    p("- where: " + where)
    p("- guest kernel: Debian %s (bzImage), test initramfs, `console=ttyS0 quiet "
      "hvtest=marker`, 1 vCPU, 256 MiB" % a.kernel_version)
    p("- date: " + a.date)
    p("- VMMs: %s; %s (%s, -cpu host, -nodefaults)" % (
        meta.get("hvrun_version", "hvrun ?"), meta.get("qemu_version", "QEMU ?"),
        meta.get("qemu_machines", "?") + (", -M pc for the firmware boots" if firmware else "")))
    if firmware:
        p("- firmware boots: SeaBIOS `%s` (the same file for both VMMs) boots a GRUB CD "
          "(bench/mkgrubiso.sh: grub-mkrescue i386-pc, the same kernel, initramfs and command "
          "line; grub.cfg `echo HVBENCH bootloader` then `linux`, `initrd`, `boot`, no menu) "
          "from a virtio-scsi CD-ROM; `hvrun -m 256 -c 1 --firmware BIOS --cdrom ISO` and "
          "`qemu-system-x86_64 -M pc -bios BIOS -boot once=d,menu=off -device virtio-scsi-pci "
          "-device scsi-cd` with `-fw_cfg name=etc/sercon-port` = 0x3f8 (hvrun sets "
          "the same file)" % meta.get("seabios", "?").split(" ")[0])
    p("- runs: %d boots per VMM, interleaved; medians over the ok boots [min-max]%s"
      % (a.runs, "; measuring step took " + a.elapsed if a.elapsed else ""))
    if a.mode == "lab":
        p("- lab times are the emulator's: compare the VMMs with each other, not with "
          "real hardware; exit counts do not depend on the emulator's speed")
    for line in lab_status_lines(a.lab_status, finished, "all boots were done"):
        p(line)
    if not tracing:
        p("- VM exits: not counted (no kvm:kvm_exit tracing where it ran)")
    p("")
    if firmware:
        p("## Direct kernel boot (-k / -kernel)")
        p("")
    p("| VMM | ok | to marker (s) | to exit (s) | VM exits | top exit reasons (median per boot) "
      "| top I/O ports (exits, median per boot) | own RSS (MiB) |")
    p("|---|---|---|---|---|---|---|---|")
    for v, label in DIRECT:
        s = summ[v]
        p("| %s | %d/%d | %s | %s | %s | %s | %s | %s |"
          % (label, s["n_ok"], s["n"], rng(s, "marker_s"), rng(s, "exit_s"),
             fmt_n(s["exits_total"]), top_reasons(s), top_ports(s),
             "n/a" if s["own_rss_mib"] is None else "%.1f" % s["own_rss_mib"]))
    p("")

    def side_by_side(group, split):
        """The union of the group's top reasons / ports, one column per VMM (with split:
        also the part up to GRUB's line)."""
        cols = []
        for v, l in group:
            cols.append((v, l, "exits", "ports"))
            if split:
                cols.append((v, "%s to GRUB" % l, "exits_bl", "ports_bl"))
        head = " | ".join(c[1] for c in cols)
        top_r = []
        for v, _ in group:
            for c, _n in top_items(summ[v]["exits"], 6):
                if c not in top_r:
                    top_r.append(c)
        if top_r:
            p("VM exits by reason, median per boot (SVM exit code names from <asm/svm.h>)%s:"
              % ("; \"to GRUB\": up to GRUB's `HVBENCH bootloader` line (firmware and boot "
                 "loader)" if split else ""))
            p("")
            p("| reason | code | " + head + " |")
            p("|---|---|" + "---|" * len(cols))
            for c in sorted(top_r, key=lambda c: -all_reasons.get(c, 0)):
                p("| %s | 0x%x | %s |" % (rname(c), c, " | ".join(
                    fmt_n(summ[v][ek].get(c, 0)) if summ[v]["n_ok"] else "n/a"
                    for v, _l, ek, _pk in cols)))
            p("| **all** | | %s |" % " | ".join(
                fmt_n(summ[v]["exits_total" if ek == "exits" else "exits_bl_total"])
                for v, _l, ek, _pk in cols))
            p("")
        top_p = []
        for v, _ in group:
            for pt, _n in top_items(summ[v]["ports"], 8):
                if pt not in top_p:
                    top_p.append(pt)
        if top_p:
            p("I/O port exits (kvm:kvm_pio), median per boot:")
            p("")
            p("| port | device | " + head + " |")
            p("|---|---|" + "---|" * len(cols))
            for pt in sorted(top_p, key=lambda x: -all_ports.get(x, 0)):
                p("| 0x%x | %s | %s |" % (pt, port_name(pt), " | ".join(
                    fmt_n(summ[v][pk].get(pt, 0)) if summ[v]["n_ok"] else "n/a"
                    for v, _l, _ek, pk in cols)))
            p("| **all** | | %s |" % " | ".join(
                fmt_n(summ[v]["pio_total" if pk == "ports" else "pio_bl_total"])
                for v, _l, _ek, pk in cols))
            p("")

    def rss_sentence(group):
        n_ok = sum(summ[v]["n_ok"] for v, _ in group)
        late = sum(1 for v, _ in group for b in boots[v]
                   if b.get("status") == "ok" and b.get("own_rss_from") != "marker")
        if n_ok:
            p("Own RSS: the VMM process's resident memory outside the guest-RAM mapping (the "
              "anonymous mapping of >= 256 MiB), from /proc/PID/smaps read the moment the marker "
              "arrived (%s).  Peak over the boot (start-up buffers included) / guest RAM "
              "touched at the marker, medians: " % (
                  "all boots" if not late else
                  "%d boot(s) missed it: their last periodic reading is used" % late)
              + "; ".join("%s %s / %s MiB" % (l, f1(summ[v]["own_rss_peak_mib"]),
                                              f1(summ[v]["guest_rss_mib"], "%.0f"))
                          for v, l in group) + ".")

    side_by_side(DIRECT, False)
    rss_sentence(DIRECT)

    if firmware:
        p("")
        p("## Firmware boot (SeaBIOS + GRUB from a virtio-scsi CD)")
        p("")
        p("To the boot loader: GRUB's `HVBENCH bootloader` line on COM1 (SeaBIOS has "
          "initialised the machine, found the CD on virtio-scsi, El Torito loaded GRUB, "
          "which read its grub.cfg); to userspace: the initramfs's `HVTEST marker` "
          "(GRUB has read the kernel and initramfs from the CD through the BIOS's int 13h, "
          "and Linux has booted); to exit: the VMM process is gone after the guest's "
          "power-off.  VM exits: all of the boot (in brackets: up to GRUB's line).")
        p("")
        p("| VMM | ok | to boot loader (s) | to userspace (s) | to exit (s) | VM exits (to GRUB) "
          "| top exit reasons (median per boot) | top I/O ports (exits, median per boot) "
          "| own RSS (MiB) |")
        p("|---|---|---|---|---|---|---|---|---|")
        for v, label in FIRMWARE:
            s = summ[v]
            p("| %s | %d/%d | %s | %s | %s | %s (%s) | %s | %s | %s |"
              % (label, s["n_ok"], s["n"], rng(s, "bootloader_s"), rng(s, "marker_s"),
                 rng(s, "exit_s"), fmt_n(s["exits_total"]), fmt_n(s["exits_bl_total"]),
                 top_reasons(s), top_ports(s),
                 "n/a" if s["own_rss_mib"] is None else "%.1f" % s["own_rss_mib"]))
        p("")
        side_by_side(FIRMWARE, True)
        # What dominates, from the numbers.
        lines = []
        pci_same = []       # the firmware rows whose PCI-config exits match the direct boot's
        for v, label in FIRMWARE:
            s = summ[v]
            if not s["n_ok"] or not s["exits_total"]:
                continue
            tot, bl = s["exits_total"], s["exits_bl_total"]
            pci = sum(x for pt, x in s["ports"].items() if pt in PCI_CFG_PORTS)
            pci_bl = sum(x for pt, x in s["ports_bl"].items() if pt in PCI_CFG_PORTS)
            top_r = top_items(s["exits"], 1)
            txt = "%s: %s exits per boot" % (label, fmt_n(tot))
            if bl is not None:
                txt += ", %s (%.0f%%) of them before GRUB's line" % (fmt_n(bl), 100.0 * bl / tot)
            if top_r:
                txt += "; %s is %.0f%% of all" % (rname(top_r[0][0]), 100.0 * top_r[0][1] / tot)
            txt += "; PCI configuration ports 0xcf8-0xcff: %s exits (%.0f%% of all" % (
                fmt_n(pci), 100.0 * pci / tot)
            if bl is not None and pci:
                txt += ", %.0f%% of them before GRUB's line" % (100.0 * pci_bl / pci)
            txt += ")"
            if bl is not None and s["ports_bl"]:
                other = [(pt, x) for pt, x in top_items(s["ports_bl"], 4)
                         if pt not in PCI_CFG_PORTS][:2]
                if other:
                    txt += "; other hot ports before GRUB's line: " + ", ".join(
                        "0x%x%s %d" % (pt, " " + port_name(pt) if port_name(pt) else "",
                                      round(x)) for pt, x in other)
            if s["bootloader_s"] is not None and s["marker_s"]:
                txt += "; the time to GRUB's line is %.0f%% of the time to userspace" % (
                    100.0 * s["bootloader_s"] / s["marker_s"])
            lines.append("- " + txt + ".")
            # What the firmware path adds over the same VMM's direct kernel boot.
            peer = summ.get(FW_PEER[v])
            if peer and peer["n_ok"] and peer["exits_total"]:
                ppci = sum(x for pt, x in peer["ports"].items() if pt in PCI_CFG_PORTS)
                if v == "hvrun-fw" and abs(pci - ppci) <= 0.1 * ppci:
                    pci_same.append(label)
                dr = sorted(((c, x - peer["exits"].get(c, 0)) for c, x in s["exits"].items()),
                            key=lambda kv: -kv[1])
                dp = sorted(((pt, x - peer["ports"].get(pt, 0)) for pt, x in s["ports"].items()),
                            key=lambda kv: -kv[1])
                plabel = dict(DIRECT)[FW_PEER[v]]
                txt = ("%s next to %s's direct kernel boot%s: %+d exits, %+.2f s to userspace; "
                       "PCI configuration exits %s here, %s there (the guest kernel's PCI "
                       "scan is in both)" % (
                           label, plabel,
                           " (a different machine: -M pc, not q35)" if v == "qemu-fw" else "",
                           round(tot - peer["exits_total"]),
                           (s["marker_s"] or 0) - (peer["marker_s"] or 0), fmt_n(pci),
                           fmt_n(ppci)))
                txt += "; the most added: " + ", ".join(
                    "%s %+d" % (rname(c), round(d)) for c, d in dr[:4] if d > 0)
                txt += "; by port: " + ", ".join(
                    "0x%x%s %+d" % (pt, " " + port_name(pt) if port_name(pt) else "", round(d))
                    for pt, d in dp[:6] if d > 0)
                lines.append("- " + txt + ".")
        if lines:
            p("What dominates (computed from the medians above):")
            p("")
            for line in lines:
                p(line)
            p("")
            p("How to read it: everything after GRUB's line covers GRUB reading the kernel "
              "and initramfs through the BIOS (int 13h: SeaBIOS's virtio-scsi driver, in "
              "32-bit code it enters from 16-bit code through call32, src/stacks.c) and then "
              "Linux booting as in the direct boots.  GRUB runs in protected mode and drops "
              "to real mode for every BIOS call (CR0 writes: CR0_SEL_WRITE); call32 saves "
              "the CMOS index and masks NMI (ports 0x70/0x71) on every entry and, without "
              "SMM, switches through CR0 and sets A20 (port 0x92), while with QEMU's SMM it "
              "raises an SMI (port 0xb2, then RSM) instead (0x92 shows up with both VMMs, so "
              "not all of it is call32's)%s.  NPF exits are guest RAM touched for the first "
              "time or MMIO (the kvm_exit histogram does not tell them apart).  SeaBIOS reaches "
              "virtio registers through the PCI configuration window "
              "(VIRTIO_PCI_CAP_PCI_CFG: 0xcf8/0xcfc for every register access) only when a "
              "64-bit BAR lies above 4 GiB (src/hw/virtio-pci.c, vp_init_simple); otherwise "
              "by MMIO.  Port 0x402 is QEMU's debug console: SeaBIOS writes its log there "
              "only when a read of the port returns 0xe9." % (
                  " -- here %s has within 10%% as many PCI configuration exits as without the "
                  "firmware: the firmware path adds mode switches per disk read and NPF exits, "
                  "not PCI accesses" % " and ".join(pci_same) if pci_same else ""))
            p("")
        rss_sentence(FIRMWARE)

    failed = [b for v, _ in VMMS for b in boots[v] if b.get("status") != "ok"]
    if failed:
        p("")
        p("Failed boots (not in the medians):")
        p("")
        for b in failed:
            extra = ""
            if b.get("bootloader_s") is not None:
                extra += " (boot loader at %.2f s)" % b["bootloader_s"]
            if b.get("marker_s") is not None:
                extra += " (marker at %.2f s)" % b["marker_s"]
            if b.get("error"):
                extra += " (%s)" % b["error"]
            if b.get("status") == "timeout" and b.get("timeout_s"):
                extra += " (killed after %g s)" % b["timeout_s"]
            why = vmm_error(os.path.join(a.raw, "%s-%d.stderr" % (b["vmm"], b["run"])))
            if why:
                extra += ": `%s`" % why
            p("- %s run %d: %s%s" % (b["vmm"], b["run"], b.get("status"), extra))
    print("\n".join(out))

    # ---- CSV: one row per boot ----
    if a.csv:
        reasons = sorted(all_reasons, key=lambda c: -all_reasons[c])
        ports = sorted(all_ports, key=lambda x: -all_ports[x])
        for v, _ in VMMS:        # also the keys only failed boots have
            for b in boots[v]:
                reasons += [c for c in (b["exits"] or {}) if c not in reasons]
                ports += [x for x in (b["ports"] or {}) if x not in ports]
        reasons_bl, ports_bl = [], []
        if firmware:
            for v, _ in FIRMWARE:
                for b in boots[v]:
                    reasons_bl += [c for c in (b["exits_bl"] or {}) if c not in reasons_bl]
                    ports_bl += [x for x in (b["ports_bl"] or {}) if x not in ports_bl]
            reasons_bl.sort(key=lambda c: reasons.index(c) if c in reasons else len(reasons))
            ports_bl.sort(key=lambda x: ports.index(x) if x in ports else len(ports))
        cols = ["vmm", "run", "status", "rc", "marker_s", "exit_s", "own_rss_mib",
                "own_rss_from", "own_rss_peak_mib", "guest_rss_mib", "guest_maps_mib",
                "rss_total_peak_mib", "smaps_reads", "smaps_s", "exits_total"]
        cols += ["exit_%s" % rname(c) for c in reasons] + ["pio_total"]
        cols += ["port_0x%x" % x for x in ports]
        if firmware:
            cols += ["bootloader_s", "exits_to_bootloader"]
            cols += ["exit_to_bootloader_%s" % rname(c) for c in reasons_bl]
            cols += ["pio_to_bootloader"] + ["port_to_bootloader_0x%x" % x for x in ports_bl]
        os.makedirs(os.path.dirname(os.path.abspath(a.csv)), exist_ok=True)
        with open(a.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for v, _ in VMMS:
                for b in boots[v]:
                    row = [v, b["run"], b.get("status"), b.get("rc"), b.get("marker_s"),
                           b.get("exit_s"), b.get("own_rss_mib"), b.get("own_rss_from"),
                           b.get("own_rss_peak_mib"), b.get("guest_rss_mib"),
                           " ".join(str(x) for x in b.get("guest_maps_mib") or []),
                           b.get("rss_total_peak_mib"), b.get("smaps_reads"), b.get("smaps_s"),
                           b["exits_total"]]
                    row += [(b["exits"] or {}).get(c, 0) if b["exits"] is not None else ""
                            for c in reasons]
                    row += [b["pio_total"]]
                    row += [(b["ports"] or {}).get(x, 0) if b["ports"] is not None else ""
                            for x in ports]
                    if firmware:
                        row += [b.get("bootloader_s"), b["exits_bl_total"]]
                        row += [(b["exits_bl"] or {}).get(c, 0) if b["exits_bl"] is not None
                                else "" for c in reasons_bl]
                        row += [b["pio_bl_total"]]
                        row += [(b["ports_bl"] or {}).get(x, 0) if b["ports_bl"] is not None
                                else "" for x in ports_bl]
                    w.writerow(["" if x is None else x for x in row])

    # ---- Data for gnuplot ----
    if a.plot_prefix:
        q = lambda x: "?" if x is None else "%.4f" % x
        with open(a.plot_prefix + "-times.dat", "w") as f:
            f.write("# vmm marker marker_min marker_max exit exit_min exit_max own_rss "
                    "bootloader bootloader_min bootloader_max\n")
            for v, l in VMMS:
                s = summ[v]
                f.write('"%s" %s %s %s %s %s %s %s %s %s %s\n' % (
                    l, q(s["marker_s"]), q(s["marker_s_min"]), q(s["marker_s_max"]),
                    q(s["exit_s"]), q(s["exit_s_min"]), q(s["exit_s_max"]),
                    q(s["own_rss_mib"]), q(s["bootloader_s"]), q(s["bootloader_s_min"]),
                    q(s["bootloader_s_max"])))
        # Exits stacked by reason: the 5 biggest over all VMMs, the rest as "other".
        top = sorted(all_reasons, key=lambda c: -all_reasons[c])[:5]
        with open(a.plot_prefix + "-exits.dat", "w") as f:
            f.write("vmm " + " ".join(rname(c) for c in top) + " other\n")
            for v, l in VMMS:
                s = summ[v]
                if not s["n_ok"] or s["exits_total"] is None:
                    f.write('"%s"' % l + " ?" * (len(top) + 1) + "\n")
                    continue
                vals = [s["exits"].get(c, 0) for c in top]
                f.write('"%s" %s %d\n' % (l, " ".join("%d" % round(x) for x in vals),
                                          max(0, round(s["exits_total"] - sum(vals)))))

    all_ok = finished and a.lab_status == 0 and not failed
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
