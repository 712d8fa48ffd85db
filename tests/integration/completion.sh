#!/bin/bash
# Bash and zsh completion generated from the flag tables: `meson install`
# puts them in $datadir/bash-completion/completions/twaudit and
# $datadir/zsh/vendor-completions/_twaudit; bash completes commands, flags
# and flag values; zsh parses the script (zsh -n); every flag of every
# command's --help is in both files.
. "$(dirname "$0")/lib.sh"

ROOT="$TMP/root"
meson install -C "$BUILD" --no-rebuild --destdir "$ROOT" >"$TMP/install.log" 2>&1
check "meson install --destdir succeeds" test $? -eq 0
prefix=$(meson introspect "$BUILD" --buildoptions | $PY -c 'import json,sys; o={o["name"]: o["value"] for o in json.load(sys.stdin)}; print(o["prefix"] + "/" + o["datadir"])')
BASHC="$ROOT$prefix/bash-completion/completions/twaudit"
ZSHC="$ROOT$prefix/zsh/vendor-completions/_twaudit"
check "installed $prefix/bash-completion/completions/twaudit" test -s "$BASHC"
check "installed $prefix/zsh/vendor-completions/_twaudit" test -s "$ZSHC"
check "the installed scripts are what the binary generates" \
	bash -c "cmp -s '$BASHC' <('$TWAUDIT' __complete bash) && cmp -s '$ZSHC' <('$TWAUDIT' __complete zsh)"
check "__complete with another shell is a usage error" bash -c "! '$TWAUDIT' __complete fish >/dev/null 2>&1"

# complete WORDS...: what _twaudit offers for the last word (COMP_CWORD).
complete_words() {
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _twaudit; echo "${COMPREPLY[*]}"' _ "$BASHC" "$@"
}
check "bash: twaudit ser<TAB> -> serve" test "$(complete_words twaudit ser)" = serve
check "bash: twaudit serve --web.l<TAB> -> --web.listen-address=" \
	test "$(complete_words twaudit serve --web.l)" = "--web.listen-address="
check "bash: twaudit check --format=j<TAB> -> json jsonl" \
	test "$(complete_words twaudit check --format=j)" = "--format=json --format=jsonl"
check "bash: twaudit check --format = <TAB> (split at '=') -> the formats" \
	test "$(complete_words twaudit check --format = '')" = "text json jsonl prom"
check "bash: twaudit check --no-collector.t<TAB> -> --no-collector.tcp_metrics" \
	test "$(complete_words twaudit check --no-collector.t)" = "--no-collector.tcp_metrics"
check "bash: twaudit help rep<TAB> -> replay report" test "$(complete_words twaudit help rep)" = "replay report"
check "bash: twaudit report <TAB> completes files" \
	bash -c "cd '$TMP' && [ \"\$(bash -c 'source \"\$1\"; COMP_WORDS=(twaudit report ins); COMP_CWORD=2; _twaudit; echo \"\${COMPREPLY[*]}\"' _ '$BASHC')\" = install.log ]"

if command -v zsh >/dev/null; then
	check "zsh -n: the zsh script parses" zsh -n "$ZSHC"
else
	echo "ok - # SKIP zsh is not installed (apt-get install zsh): zsh -n not run"
fi

# Every flag in the tables (as each command's --help lists them) is in both.
missing=
for cmd in serve check replay report; do
	"$TWAUDIT" "$cmd" --help >"$TMP/help-$cmd" 2>&1
	for flag in $(grep -oE '^  --[a-z0-9._-]+' "$TMP/help-$cmd" | sed 's/^  //'); do
		grep -q -- "$flag[= ']" "$BASHC" || missing+=" bash:$cmd:$flag"
		grep -qE -- "'\\*?$flag[=[]" "$ZSHC" || missing+=" zsh:$cmd:$flag"
	done
	grep -q "^_twaudit_$cmd() {" "$ZSHC" || missing+=" zsh:$cmd"
	grep -qE "^\s*$cmd\) echo" "$BASHC" || missing+=" bash:$cmd"
done
check "every flag of every command is in both scripts${missing:+ (missing:$missing)}" test -z "$missing"
check "the help lists the collector switches (the tables were read)" \
	grep -q -- '--collector.disable-defaults' "$TMP/help-check"

finish
