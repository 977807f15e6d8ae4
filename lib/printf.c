// SPDX-License-Identifier: MIT
/*
 * The formatter behind printk() and ksnprintf(); see lib/printf.h.
 * Portable core: no libc, no floating point, one character at a time
 * through a callback so that console output needs no buffer.
 */
#include "lib/printf.h"

struct spec {
	bool left, zero, plus, space, alt;
	bool ptr; /* %p: always a 0x prefix */
	int width;	/* -1: none */
	int prec;	/* -1: none */
	int length;	/* 'H' hh, 'h', 'l', 'L' ll, 'z', 't', 'j', 0 */
};

struct out {
	void (*put)(char c, void *arg);
	void *arg;
	int count;
};

static void emit(struct out *o, char c)
{
	o->put(c, o->arg);
	o->count++;
}

static void emit_n(struct out *o, char c, int n)
{
	while (n-- > 0)
		emit(o, c);
}

static int parse_int(const char **p)
{
	int v = 0;

	while (**p >= '0' && **p <= '9') {
		if (v < 100000) /* absurd widths are clamped, not overflowed */
			v = v * 10 + (**p - '0');
		(*p)++;
	}
	return v;
}

static void emit_str(struct out *o, const struct spec *s, const char *str)
{
	int len = 0, pad;

	if (!str)
		str = "(null)";
	while (str[len] && (s->prec < 0 || len < s->prec))
		len++;
	pad = s->width > len ? s->width - len : 0;
	if (!s->left)
		emit_n(o, ' ', pad);
	for (int i = 0; i < len; i++)
		emit(o, str[i]);
	if (s->left)
		emit_n(o, ' ', pad);
}

/*
 * One integer: @v is the magnitude, @neg its sign (signed conversions
 * only), @base 8, 10 or 16.
 */
static void emit_num(struct out *o, const struct spec *s, uint64_t v, bool neg,
		     unsigned int base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int n = 0, zeros = 0, pad, body;
	char sign = 0;
	const char *prefix = "";

	/* C: a zero value with precision 0 prints no digits. */
	if (!(v == 0 && s->prec == 0)) {
		do {
			buf[n++] = digits[v % base];
			v /= base;
		} while (v);
	}
	if (neg)
		sign = '-';
	else if (s->plus && base == 10)
		sign = '+';
	else if (s->space && base == 10)
		sign = ' ';
	if (s->alt && base == 16 && n && !(n == 1 && buf[0] == '0'))
		prefix = upper ? "0X" : "0x";
	if (s->ptr)
		prefix = "0x";
	if (s->alt && base == 8 && (n == 0 || buf[n - 1] != '0'))
		zeros = 1;
	if (s->prec > n)
		zeros = s->prec - n;
	body = n + zeros + (sign ? 1 : 0) + (int)(prefix[0] ? 2 : 0);
	pad = s->width > body ? s->width - body : 0;
	/* The 0 flag pads with zeros after the sign, unless a precision is given. */
	if (s->zero && !s->left && s->prec < 0) {
		zeros += pad;
		pad = 0;
	}
	if (!s->left)
		emit_n(o, ' ', pad);
	if (sign)
		emit(o, sign);
	for (const char *p = prefix; *p; p++)
		emit(o, *p);
	emit_n(o, '0', zeros);
	while (n)
		emit(o, buf[--n]);
	if (s->left)
		emit_n(o, ' ', pad);
}

static uint64_t arg_unsigned(const struct spec *s, va_list *ap)
{
	switch (s->length) {
	case 'H':
		return (unsigned char)va_arg(*ap, unsigned int);
	case 'h':
		return (unsigned short)va_arg(*ap, unsigned int);
	case 'l':
		return va_arg(*ap, unsigned long);
	case 'L':
		return va_arg(*ap, unsigned long long);
	case 'z':
		return va_arg(*ap, size_t);
	case 't':
		return (uint64_t)va_arg(*ap, ptrdiff_t);
	case 'j':
		return va_arg(*ap, uintmax_t);
	default:
		return va_arg(*ap, unsigned int);
	}
}

static int64_t arg_signed(const struct spec *s, va_list *ap)
{
	switch (s->length) {
	case 'H':
		return (signed char)va_arg(*ap, int);
	case 'h':
		return (short)va_arg(*ap, int);
	case 'l':
		return va_arg(*ap, long);
	case 'L':
		return va_arg(*ap, long long);
	case 'z':
		return (int64_t)va_arg(*ap, size_t);
	case 't':
		return va_arg(*ap, ptrdiff_t);
	case 'j':
		return va_arg(*ap, intmax_t);
	default:
		return va_arg(*ap, int);
	}
}

/* Flags, width, precision and length of one conversion; *p is past '%'. */
static void parse_spec(const char **p, struct spec *s, va_list *ap)
{
	*s = (struct spec){ .width = -1, .prec = -1 };
	for (;; (*p)++) {
		if (**p == '-')
			s->left = true;
		else if (**p == '0')
			s->zero = true;
		else if (**p == '+')
			s->plus = true;
		else if (**p == ' ')
			s->space = true;
		else if (**p == '#')
			s->alt = true;
		else
			break;
	}
	if (**p == '*') {
		s->width = va_arg(*ap, int);
		if (s->width < 0) {
			s->left = true;
			s->width = -s->width;
		}
		(*p)++;
	} else if (**p >= '0' && **p <= '9') {
		s->width = parse_int(p);
	}
	if (**p == '.') {
		(*p)++;
		if (**p == '*') {
			s->prec = va_arg(*ap, int);
			if (s->prec < 0)
				s->prec = -1;
			(*p)++;
		} else {
			s->prec = parse_int(p);
		}
	}
	switch (**p) {
	case 'h':
		s->length = 'h';
		if ((*p)[1] == 'h') {
			s->length = 'H';
			(*p)++;
		}
		(*p)++;
		break;
	case 'l':
		s->length = 'l';
		if ((*p)[1] == 'l') {
			s->length = 'L';
			(*p)++;
		}
		(*p)++;
		break;
	case 'z':
	case 't':
	case 'j':
		s->length = **p;
		(*p)++;
		break;
	}
}

static void convert(struct out *o, char conv, struct spec *s, va_list *ap)
{
	int64_t sv;
	char c;

	switch (conv) {
	case 'd':
	case 'i':
		sv = arg_signed(s, ap);
		emit_num(o, s, sv < 0 ? -(uint64_t)sv : (uint64_t)sv, sv < 0,
			 10, false);
		break;
	case 'u':
		emit_num(o, s, arg_unsigned(s, ap), false, 10, false);
		break;
	case 'x':
	case 'X':
		emit_num(o, s, arg_unsigned(s, ap), false, 16, conv == 'X');
		break;
	case 'o':
		emit_num(o, s, arg_unsigned(s, ap), false, 8, false);
		break;
	case 'p':
		/* Fixed form, so logs line up and tools can parse them. */
		s->alt = false;
		s->ptr = true;
		s->prec = 16;
		emit_num(o, s, (uintptr_t)va_arg(*ap, void *), false, 16, false);
		break;
	case 'c':
		c = (char)va_arg(*ap, int);
		s->prec = -1;
		if (!s->left)
			emit_n(o, ' ', s->width - 1);
		emit(o, c);
		if (s->left)
			emit_n(o, ' ', s->width - 1);
		break;
	case 's':
		emit_str(o, s, va_arg(*ap, const char *));
		break;
	case '%':
		emit(o, '%');
		break;
	default:
		/* Unknown conversion: show it rather than guess at arguments. */
		emit(o, '%');
		if (conv)
			emit(o, conv);
		break;
	}
}

int kvformat(void (*put)(char c, void *arg), void *arg, const char *fmt,
	     va_list ap)
{
	struct out o = { put, arg, 0 };
	struct spec s;
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%') {
			emit(&o, *fmt++);
			continue;
		}
		fmt++;
		parse_spec(&fmt, &s, &aq);
		convert(&o, *fmt, &s, &aq);
		if (*fmt)
			fmt++;
	}
	va_end(aq);
	return o.count;
}

struct buf_out {
	char *buf;
	size_t size, used;
};

static void put_buf(char c, void *arg)
{
	struct buf_out *b = arg;

	if (b->used + 1 < b->size)
		b->buf[b->used] = c;
	b->used++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf_out b = { buf, size, 0 };
	int n = kvformat(put_buf, &b, fmt, ap);

	if (size)
		buf[b.used < size ? b.used : size - 1] = '\0';
	return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

bool log_level_parse(const char *s, enum log_level *out)
{
	static const char *const names[] = { "err", "warn", "info", "debug" };

	if (!s)
		return false;
	if (s[0] >= '0' && s[0] <= '3' && s[1] == '\0') {
		*out = (enum log_level)(s[0] - '0');
		return true;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++) {
		if (str_eq(s, names[i])) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}
