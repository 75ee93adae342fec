#!/usr/bin/env python3
"""seeds.py - seed inputs of the fuzz_map and fuzz_config harnesses.

    python3 tests/fuzz/seeds.py map DIR      samples with their option byte
    python3 tests/fuzz/seeds.py config DIR   config + mapping bundles

map: each sample of samples/ prefixed with the index of the mapping in
tests/fuzz/fuzz_map.c's maps[] that reads it (and, for EDI, once more with
bit 5: the interchange hook on).
config: for each inbound mapping of mappings/, a bundle (fuzz_config.c)
of one of three small configs written here, the mapping with its lookup
files renamed l0.csv, l1.csv, ..., an outbound mapping of
mappings/targets/ and the lookup tables. Only files of this repository
are read; nothing is fetched.
"""
import os
import re
import sys

# The order of maps[] in tests/fuzz/fuzz_map.c, with the samples each reads.
MAPS = [
    ("mappings/edi/x12_846_inventory.yaml", ["samples/edi/acme_846_inventory.x12"]),
    ("mappings/edi/x12_852_activity.yaml", ["samples/edi/acme_852_sdq.x12",
                                            "samples/edi/acme_852_one_broken_set.x12"]),
    ("mappings/edi/x12_856_asn.yaml", ["samples/edi/acme_856_asn.x12"]),
    ("mappings/edi/x12_832_catalog.yaml", ["samples/edi/acme_832_catalog.x12"]),
    ("mappings/edi/edifact_invrpt.yaml", ["samples/edi/acme_invrpt_unoc.edi"]),
    ("mappings/edi/edifact_desadv.yaml", ["samples/edi/alpenhof_desadv.edi"]),
    ("mappings/edi/edifact_slsrpt.yaml", ["samples/edi/store_slsrpt.edi"]),
    ("mappings/edi/edifact_pricat.yaml", ["samples/edi/alpenhof_pricat.edi"]),
    ("mappings/xml/erp_stock_export.yaml", ["samples/xml/erp/bestand_20261120.xml"]),
    ("mappings/xml/opentrans_dispatchnotification.yaml",
     ["samples/xml/opentrans/dispatchnotification_DN-2026-88213.xml"]),
    ("mappings/xml/sap_idoc_stock.yaml", ["samples/xml/idoc/WMMBXY_0000000004711001.xml"]),
    ("mappings/xml/ubl_catalogue.yaml", ["samples/xml/ubl/catalogue_alpenhof_20261120.xml"]),
    ("mappings/xml/ubl_inventory_report.yaml",
     ["samples/xml/ubl/inventory_report_STORE-027_20261120.xml"]),
    ("mappings/stores/store_stock_csv.yaml", ["samples/drop/stores/stock_F012_20261120.csv",
                                              "samples/drop/erp_stock/erp_book_stock_20261120.csv"]),
    ("mappings/supplier/items_csv.yaml", ["samples/drop/supplier/acme_items_20261120.csv"]),
    ("mappings/erp/locations_csv.yaml", ["samples/drop/erp/locations_20261120.csv"]),
    ("mappings/erp/prices_csv.yaml", ["samples/drop/erp/prices_20261120.csv"]),
]

OUTBOUND = sorted("mappings/targets/" + f for f in os.listdir("mappings/targets")
                  if f.endswith(".yaml"))

SEP = b"\n#@@\n"

CONFIGS = [
    # A local drop folder and a local target, as in samples/stockpipe.yaml.
    """state_dir: state
reject_threshold: 25%
sources:
  - name: drop
    path: in
    pattern: "*_{date:%Y%m%d}.*"
    mapping: m.yaml
    after_load: move
    min_age: 30s
targets:
  - name: shop
    path: out
    mapping: out.yaml
    filename: "{target}_{run_id}_{utc:%Y%m%dT%H%M%SZ}.{ext}"
    safety_stock: 2
    location_types: [store, dc]
""",
    # Routes by name and format, acknowledgments, archive limits, SFTP.
    """sources:
  - name: partner
    url: sftp://edi@127.0.0.1:2222/outbox
    ssh:
      key_file: id_ed25519
      known_hosts: known_hosts
      timeout: 30s
    patterns: ["*.x12", "*.edi", "*.xml", "*.csv"]
    routes:
      - pattern: "*.x12"
        mapping: m.yaml
      - format: edifact
        mapping: m.yaml
    mapping: m.yaml
    archive: { max_members: 100, max_total: 10M }
    acks: { path: acks, x12: "997", edifact: contrl }
    on_stale: reject
targets:
  - name: market
    path: out
    mapping: out.yaml
    filename: "{target}_{run_id}.{ext}"
    safety_stock: 10%
    allocation: 50%
    snapshot: delta
    schedule: every 15m
authority:
  on_hand: [partner]
""",
    # A cron schedule, per-category safety stock, caps and units.
    """state_dir: ${STOCKPIPE_STATE_DIR:-state}
sources:
  - name: stores
    path: in
    pattern: "stock_{store}_{date:%Y%m%d}.csv"
    mapping: m.yaml
    after_load: delete
targets:
  - name: erp
    path: out
    mapping: out.yaml
    filename: "{target}-{run_id}.{ext}"
    schedule: "0 3-3/5 * * 1-5 Europe/Berlin"
    safety_stock_by_category: { garden: 5, food: 10% }
    per_location: true
    round_to: pack
""",
]

LOOKUP_RE = re.compile(rb"file:\s*([^\s,}]+\.csv)")


def bundle_mapping(path):
    """The mapping with its lookup files renamed, and their contents."""
    text = open(path, "rb").read()
    files = []

    def sub(m):
        name = m.group(1)
        if name not in files:
            files.append(name)
        return b"file: l%d.csv" % files.index(name)
    text = LOOKUP_RE.sub(sub, text)
    base = os.path.dirname(path).encode()
    tables = [open(os.path.join(base, f), "rb").read() for f in files]
    return text, tables


def seeds_map(out):
    for i, (_, samples) in enumerate(MAPS):
        for s in samples:
            data = open(s, "rb").read()[:65536]
            name = os.path.basename(s)
            with open(os.path.join(out, "seed-%02d-%s" % (i, name)), "wb") as f:
                f.write(bytes([i]) + data)
            if s.endswith((".x12", ".edi")):
                with open(os.path.join(out, "seed-%02d-ic-%s" % (i, name)), "wb") as f:
                    f.write(bytes([i | 0x20]) + data)


def seeds_config(out):
    for i, (m, _) in enumerate(MAPS):
        text, tables = bundle_mapping(m)
        otext, otables = bundle_mapping(OUTBOUND[i % len(OUTBOUND)])
        cfg = CONFIGS[i % len(CONFIGS)].encode()
        parts = [cfg, text, otext] + tables
        name = "seed-%02d-%s" % (i, os.path.basename(m).replace(".yaml", ""))
        with open(os.path.join(out, name), "wb") as f:
            f.write(SEP.join(parts))
        # The outbound mapping's own lookups, if any, in their own bundle.
        if otables:
            with open(os.path.join(out, name + "-out"), "wb") as f:
                f.write(SEP.join([cfg, text, otext] + otables))


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("map", "config"):
        sys.stderr.write(__doc__)
        return 64
    os.makedirs(sys.argv[2], exist_ok=True)
    (seeds_map if sys.argv[1] == "map" else seeds_config)(sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
