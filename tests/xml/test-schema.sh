#!/bin/bash
# Schema checks of every sample: each xml/examples/*.xml is a valid libvirt
# domain (virt-xml-validate) whose <vfo:failover> part is valid against
# xml/vfailover-annotations.rng (xmllint --relaxng); so are the rewritten
# domains in tests/xml/expected/*.rewrite.xml and every VF device XML in
# *.render.xml placed into its example's domain. Invalid inputs marked
# "(schema: reject)" must fail the RelaxNG check too; the others document
# what only libvfxml can catch and must pass it.
set -u
. "$top_srcdir/tests/lib/tap.sh"

# The tools configure found (tests/xml/xml-tools.env), else PATH.
XMLLINT=xmllint
VIRT_XML_VALIDATE=virt-xml-validate
[ -f "$top_builddir/tests/xml/xml-tools.env" ] && . "$top_builddir/tests/xml/xml-tools.env"
command -v "$XMLLINT" >/dev/null || skip_all "xmllint not found ($XMLLINT)"
command -v "$VIRT_XML_VALIDATE" >/dev/null || skip_all "virt-xml-validate not found ($VIRT_XML_VALIDATE)"

rng=$top_srcdir/xml/vfailover-annotations.rng
ex=$top_srcdir/xml/examples
data=$top_srcdir/tests/xml/data
expected=$top_srcdir/tests/xml/expected
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

xpath="//*[local-name()='failover' and namespace-uri()='http://vfailover.org/schemas/domain/1.0']"

# Our part of a domain XML, alone, into $2; fails if there is none.
vfo_part() {
    "$XMLLINT" --nonet --xpath "$xpath" "$1" > "$2" 2>/dev/null && [ -s "$2" ]
}

examples=("$ex"/*.xml)
invalid=()
for f in "$data"/*-invalid.xml; do
    grep -q '(schema' "$f" && invalid+=("$f")
done
renders=("$expected"/*.render.xml)
plan $(( ${#examples[@]} * 3 + ${#invalid[@]} + ${#renders[@]} ))

for f in "${examples[@]}"; do
    name=$(basename "$f" .xml)
    "$VIRT_XML_VALIDATE" "$f" domain >"$tmp/out" 2>&1
    ok $? "$name: libvirt domain schema" || cat "$tmp/out"
    if grep -q 'http://vfailover.org/schemas/domain/1.0' "$f"; then
        vfo_part "$f" "$tmp/part.xml" && "$XMLLINT" --noout --nonet --relaxng "$rng" "$tmp/part.xml" >"$tmp/out" 2>&1
        ok $? "$name: vfo part against vfailover-annotations.rng"
    else
        ok 0 "$name: no vfo part (unannotated example)"
    fi
    "$VIRT_XML_VALIDATE" "$expected/$name.rewrite.xml" domain >"$tmp/out" 2>&1
    ok $? "$name: rewritten for incoming migration, libvirt domain schema"
done

for f in "${invalid[@]}"; do
    name=$(basename "$f" .xml)
    vfo_part "$f" "$tmp/part.xml"
    "$XMLLINT" --noout --nonet --relaxng "$rng" "$tmp/part.xml" >"$tmp/out" 2>&1
    rc=$?
    if grep -q '(schema: reject)' "$f"; then
        [ $rc != 0 ]; ok $? "$name: the schema rejects it"
    else
        [ $rc = 0 ]; ok $? "$name: the schema accepts it (only libvfxml can reject it)"
    fi
done

# Each <interface> of a render.xml, placed in its example's <devices>.
for r in "${renders[@]}"; do
    name=$(basename "$r" .render.xml)
    src=$ex/$name.xml
    [ -f "$src" ] || src=$data/$name.xml
    awk '/^<interface /{keep=1; n++; out=sprintf("%s/iface-%d.xml", dir, n)}
         keep{print > out} /^<\/interface>/{keep=0}' dir="$tmp" "$r"
    rc=0
    for i in "$tmp"/iface-*.xml; do
        [ -f "$i" ] || continue
        awk -v ifile="$i" '/<\/devices>/{while ((getline l < ifile) > 0) print l} {print}' \
            "$src" > "$tmp/with-vf.xml"
        "$VIRT_XML_VALIDATE" "$tmp/with-vf.xml" domain >"$tmp/out" 2>&1 || { rc=1; cat "$tmp/out"; cat "$i"; }
        rm -f "$i"
    done
    ok $rc "$name: every rendered VF device fits libvirt's domain schema"
done
exit $(( _tap_failed > 0 ))
