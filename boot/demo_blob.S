/* demo_blob.S: embeds the assembled first-VM program (build/guests/hello16.bin) in hvrun. */
	.section .rodata
	.globl	hvrun_demo_start
	.globl	hvrun_demo_end
	.balign	16
hvrun_demo_start:
	.incbin	"hello16.bin"
hvrun_demo_end:
	.section .note.GNU-stack, "", @progbits
