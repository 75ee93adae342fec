#!/bin/sh
# help2roff.sh - one man page per subcommand, made at build time from the
# binary's own help (`stockpipe COMMAND --help` and the command list of
# `stockpipe --help`), so the pages cannot drift from the options the
# program really takes. stockpipe(1), stockpipe.yaml(5) and
# stockpipe-mapping(5) are written by hand (docs/man/*.in).
#
#   sh docs/man/help2roff.sh BINARY OUTDIR VERSION
#
# Writes OUTDIR/stockpipe-COMMAND.1 for each command. The date is
# SOURCE_DATE_EPOCH's (reproducible builds), else today's.
# In the help text: lines at the left margin are prose (filled); "NAME
# <2+ spaces> text" lines (options, sub-subcommands) become tagged
# paragraphs, with deeper-indented lines continuing them; other indented
# lines (examples) are kept as they are.
set -eu
bin=$1 out=$2 version=$3
date=$(date -u ${SOURCE_DATE_EPOCH:+-d @$SOURCE_DATE_EPOCH} +%Y-%m-%d)
mkdir -p "$out"
cmds=$("$bin" --help 2>&1 | awk '/^commands:/ {on = 1; next}
	on && /^$/ {exit}
	on {print}')
[ -n "$cmds" ] || { echo "help2roff: no command list in '$bin --help'" >&2; exit 1; }
echo "$cmds" | while read -r cmd summary; do
	"$bin" "$cmd" --help >"$out/.help" 2>&1 || true
	grep -q '^usage:' "$out/.help" ||
		{ echo "help2roff: '$bin $cmd --help' printed no usage" >&2; exit 1; }
	awk -v cmd="$cmd" -v summary="$summary" -v date="$date" \
		-v version="$version" '
function esc(s) {
	gsub(/\\/, "\\e", s)
	sub(/^[.'\'']/, "\\\\\\&&", s)
	return s
}
function opt(s) { s = esc(s); gsub(/-/, "\\-", s); return "\\fB" s "\\fR" }
function endblock() {
	if (mode == "nf") print ".fi"
	mode = ""
}
BEGIN {
	up = toupper("stockpipe-" cmd)
	print ".TH " up " 1 " date " \"stockpipe " version "\" \"stockpipe manual\""
	# Ragged right: help text has long unbreakable words (a|b|c lists,
	# paths) that full justification cannot fit.
	print ".ad l"
	print ".nh"
	print ".SH NAME"
	print "stockpipe-" cmd " \\- " esc(summary)
	print ".SH SYNOPSIS"
	print ".nf"
	state = "usage"
}
state == "usage" && /^$/ {
	print ".fi"
	print ".SH DESCRIPTION"
	state = "body"; mode = ""; para = 1
	next
}
state == "usage" {
	sub(/^usage: /, ""); sub(/^       /, "")
	print esc($0)
	next
}
/^$/ { endblock(); para = 1; next }
{
	line = $0
	match(line, /^ */); ind = RLENGTH
	rest = substr(line, ind + 1)
	# "NAME  text": a tag, two or more spaces, its text.
	if (ind <= 4 && match(rest, /  +[^ ]/) && substr(rest, 1, 1) != "(") {
		tag = substr(rest, 1, RSTART - 1)
		text = substr(rest, RSTART + RLENGTH - 1)
		if (tag !~ /[a-z]  / && tag !~ /[.,:;]$/ && tag ~ /^[-a-z]/) {
			endblock()
			print ".TP"
			print opt(tag)
			print esc(text)
			mode = "tp"; tind = ind
			next
		}
	}
	if (mode == "tp" && ind > tind) { print esc(rest); next }
	if (ind > 0) {
		if (mode != "nf") {
			endblock()
			if (para) print ".PP"
			print ".nf"
			mode = "nf"
		}
		print esc(line)
		para = 0
		next
	}
	if (mode != "") { endblock(); para = 1 }
	if (para) print ".PP"
	para = 0
	# A long a|b|c list may break after each bar (\: is a break point).
	line = esc(line)
	gsub(/\|/, "|\\:", line)
	print line
}
END {
	endblock()
	if (state == "usage") print ".fi"
	print ".SH EXIT STATUS"
	print "0 done; 1 done with rejected records, quarantined files or parked"
	print "units; 64 usage; 70 internal error; 75 temporary failure (retry);"
	print "78 configuration, mapping or credential error. See"
	print ".BR stockpipe (1)."
	print ".SH SEE ALSO"
	print ".BR stockpipe (1),"
	print ".BR stockpipe.yaml (5),"
	print ".BR stockpipe\\-mapping (5)"
}' "$out/.help" >"$out/stockpipe-$cmd.1.tmp"
	mv "$out/stockpipe-$cmd.1.tmp" "$out/stockpipe-$cmd.1"
done
rm -f "$out/.help"
