"""Cut the bundled samples from the full data sets (see samples/README.md).

    .venv/bin/python samples/make_samples.py [--source ../shared/data]

Rows are copied byte for byte (original quoting, file order); gzip headers carry no time stamp
or file name, so the output is the same on every run.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent / "shared" / "data"
CDNOW_LAST_CUSTOMER = "00300"
OLIST_TARGET_ORDERS = 120  # orders of the busiest sellers; the non-delivered and multi-seller orders come on top


def read_lines(path: Path) -> tuple[str, list[tuple[list[str], str]]]:
    """The header line and every data line with its parsed cells (no field spans two lines here)."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        lines = handle.readlines()
    rows = [(next(csv.reader([line.lstrip("\ufeff")])), line) for line in lines]
    return lines[0], rows[1:]


def column(header: str, name: str) -> int:
    """Index of column ``name`` in a header line (ignoring quotes and a byte-order mark)."""
    return next(csv.reader([header.lstrip("\ufeff")])).index(name)


def write_gzip(path: Path, header: str, lines: list[str]) -> None:
    """Write ``header`` and ``lines`` gzip-compressed, reproducibly (mtime 0, no file name)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
        handle.write((header + "".join(lines)).encode("utf-8"))
    path.write_bytes(buffer.getvalue())


def cdnow(source: Path, target: Path) -> int:
    """Every row of customers 00001-00300, in file order."""
    header, rows = read_lines(source / "cdnow" / "transactions.csv.gz")
    index = column(header, "customer_id")
    kept = [line for cells, line in rows if cells[index] <= CDNOW_LAST_CUSTOMER]
    write_gzip(target / "cdnow_sample.csv.gz", header, kept)
    return len(kept)


def olist(source: Path, target: Path) -> dict[str, int]:
    """A coherent subset: the busiest sellers' orders plus every non-delivered and multi-seller order."""
    src = source / "olist"
    target.mkdir(parents=True, exist_ok=True)
    tables = {
        name: read_lines(src / f"{name}.csv.gz")
        for name in ("orders", "order_items", "customers", "sellers", "products", "category_translation", "payments")
    }
    o_header, orders = tables["orders"]
    i_header, items = tables["order_items"]
    o_id, o_status = column(o_header, "order_id"), column(o_header, "order_status")
    i_order, i_seller, i_product = (column(i_header, name) for name in ("order_id", "seller_id", "product_id"))

    orders_of_seller: dict[str, set[str]] = defaultdict(set)
    sellers_of_order: dict[str, set[str]] = defaultdict(set)
    for cells, _ in items:
        orders_of_seller[cells[i_seller]].add(cells[i_order])
        sellers_of_order[cells[i_order]].add(cells[i_seller])
    chosen: set[str] = set()
    for seller in sorted(orders_of_seller, key=lambda s: (-len(orders_of_seller[s]), s)):
        if len(chosen) >= OLIST_TARGET_ORDERS:
            break
        chosen |= orders_of_seller[seller]
    chosen |= {cells[o_id] for cells, _ in orders if cells[o_status] != "delivered"}
    chosen |= {order for order, sellers in sellers_of_order.items() if len(sellers) > 1}

    kept_items = [(cells, line) for cells, line in items if cells[i_order] in chosen]
    sellers = {cells[i_seller] for cells, _ in kept_items}
    products = {cells[i_product] for cells, _ in kept_items}
    c_header, _ = tables["customers"]
    customer_ids = {cells[column(o_header, "customer_id")] for cells, _ in orders if cells[o_id] in chosen}
    p_header, product_rows = tables["products"]
    p_id, p_category = column(p_header, "product_id"), column(p_header, "product_category_name")
    categories = {cells[p_category] for cells, _ in product_rows if cells[p_id] in products}
    keep = {
        "orders": lambda cells: cells[o_id] in chosen,
        "order_items": lambda cells: cells[i_order] in chosen,
        "customers": lambda cells: cells[column(c_header, "customer_id")] in customer_ids,
        "sellers": lambda cells: cells[column(tables["sellers"][0], "seller_id")] in sellers,
        "products": lambda cells: cells[p_id] in products,
        "category_translation": lambda cells: cells[0] in categories,
        "payments": lambda cells: cells[column(tables["payments"][0], "order_id")] in chosen,
    }
    counts = {}
    for name, (header, rows) in tables.items():
        lines = [line for cells, line in rows if keep[name](cells)]
        write_gzip(target / f"{name}.csv.gz", header, lines)
        counts[name] = len(lines)
    return counts


def main() -> None:
    """Write samples/cdnow_sample.csv.gz and samples/olist/*.csv.gz from ``--source``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="The shared data directory.")
    args = parser.parse_args()
    print(f"cdnow_sample.csv.gz: {cdnow(args.source, HERE)} rows")
    for name, count in olist(args.source, HERE / "olist").items():
        print(f"olist/{name}.csv.gz: {count} rows")


if __name__ == "__main__":
    main()
