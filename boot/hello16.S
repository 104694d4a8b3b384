/*
 * hello16.S: the first-VM guest program.  16-bit real mode, loaded by hvrun
 * at 0x1000 and entered at 0000:1000 on every vCPU, with SI = the vCPU index.
 * It drives the emulated 16550 UART (COM1, port 0x3f8) exactly as a BIOS
 * would: program the line, then for each byte wait for "transmitter empty"
 * in the line status register and write the byte.  Each port access is a
 * VM exit that hvrun handles (devices/legacy/serial_8250.c).  When its line
 * is out, the vCPU halts; hvrun exits 0 once every vCPU has halted.
 */
	.code16
	.text
	.globl	start

	.equ	COM1,      0x3f8
	.equ	UART_LCR,  COM1 + 3	/* line control; bit 7 = DLAB (divisor access) */
	.equ	UART_LSR,  COM1 + 5	/* line status; bit 5 = THR empty */
	.equ	LSR_THRE,  0x20

start:
	cli
	cld
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %ss
	mov	%si, %bx		/* bx = our vCPU index (hvrun put it in SI) */
	mov	%bx, %ax
	shl	$6, %ax
	mov	$0x7c00, %sp
	sub	%ax, %sp		/* a 64-byte stack of our own below 0x7c00 */

	test	%bx, %bx
	jnz	wait_uart
	call	uart_init		/* the first vCPU sets the line up ... */
	movb	$1, uart_ready
wait_uart:				/* ... the others wait until it has */
	cmpb	$0, uart_ready
	jne	take_lock
	pause
	jmp	wait_uart

take_lock:				/* one line at a time on the shared UART */
	mov	$1, %al
	xchg	%al, console_lock	/* xchg with memory is atomic on x86 */
	test	%al, %al
	jz	print
	pause
	jmp	take_lock

print:
	mov	$hello, %si
	call	puts
	mov	%bx, %ax
	call	putdec
	mov	$tail, %si
	call	puts
	movb	$0, console_lock	/* release: plain stores are ordered on x86 */
halt:
	hlt				/* exits to hvrun: this vCPU is done */
	jmp	halt

/* 115200 baud (divisor 1), 8 data bits, no parity, 1 stop bit. */
uart_init:
	mov	$UART_LCR, %dx
	mov	$0x80, %al		/* DLAB = 1: ports 0/1 are the divisor */
	out	%al, %dx
	mov	$COM1, %dx
	mov	$1, %al			/* divisor low byte */
	out	%al, %dx
	inc	%dx
	xor	%al, %al		/* divisor high byte */
	out	%al, %dx
	mov	$UART_LCR, %dx
	mov	$0x03, %al		/* DLAB = 0, 8N1 */
	out	%al, %dx
	ret

/* putc: send the byte in AL once the transmitter is empty. */
putc:
	push	%dx
	push	%ax
	mov	$UART_LSR, %dx
1:	in	%dx, %al
	test	$LSR_THRE, %al
	jz	1b
	pop	%ax
	mov	$COM1, %dx
	out	%al, %dx
	pop	%dx
	ret

/* puts: send the NUL-terminated string at DS:SI. */
puts:
	lodsb
	test	%al, %al
	jz	1f
	call	putc
	jmp	puts
1:	ret

/* putdec: send AX in decimal (recursive: higher digits first). */
putdec:
	xor	%dx, %dx
	mov	$10, %cx
	div	%cx			/* ax = ax / 10, dx = ax % 10 */
	push	%dx
	test	%ax, %ax
	jz	1f
	call	putdec
1:	pop	%ax
	add	$'0', %al
	call	putc
	ret

hello:		.asciz	"Hello from vCPU "
tail:		.asciz	": this is your first VM, running on KVM.\r\n"
console_lock:	.byte	0
uart_ready:	.byte	0
