#!/usr/bin/env bash
# demo.sh: the README's first command: install what is needed, build hvrun, and run
# the demo guest, directly on this host's KVM when it has a hardware one, else in
# the nested-KVM lab (QEMU TCG with AMD SVM, tests/lab/lab.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh --lab
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

demo=(build/hvrun --demo -c 2)
if [ "$(tools/kvm-mode.sh build/hvrun)" = direct ]; then
	echo "demo: running on this host's KVM: ${demo[*]}" >&2
	exec "${demo[@]}"
fi
echo "demo: this host has no hardware KVM (see 'build/hvrun --check'):" \
     "running in the nested-KVM lab: ${demo[*]}" >&2
exec tests/lab/lab.sh --timeout 300 -- "${demo[@]}"
