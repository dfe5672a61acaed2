"""The case file's picture of the subgraph behind the findings, styled like the Neo4j Browser kit.

A force-directed layout (networkx's spring layout, fixed seed, so the same case draws the same way) of
the vessels, their owners and managers, current flags, STS transfers, port calls and designations; nodes
take the Browser kit's colours and captions, relationships its colours, arrows and type names.
"""

from __future__ import annotations

import math

import networkx as nx

from queries.browser_kit import REL_LOOKS, look_for
from queries.casefile.model import PictureEdge, PictureNode
from queries.casefile.svg import element, svg, text

WIDTH = 1000.0
HEIGHT = 720.0
MARGIN = 60.0
CAPTION_ROOM = 34.0  # px kept between circles so that captions under them do not collide
SIZE = 0.45  # the Browser kit's diameters are for Browser's zoom; a printed page wants them smaller


def picture_svg(nodes: list[PictureNode], edges: list[PictureEdge]) -> str:
    """The subgraph drawing, or an empty string when there is nothing to draw."""
    if not nodes:
        return ""
    known = {n.key for n in nodes}
    graph = nx.DiGraph()
    graph.add_nodes_from(sorted(known))
    graph.add_edges_from(sorted((e.src, e.dst) for e in edges if e.src in known and e.dst in known))
    layout = _layout(graph)
    xs = [p[0] for p in layout.values()]
    ys = [p[1] for p in layout.values()]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    radius = {n.key: look_for(n.label).diameter * SIZE / 2 for n in nodes}
    placed = {
        key: [
            MARGIN + (x - min(xs)) / span_x * (WIDTH - 2 * MARGIN),
            MARGIN + (y - min(ys)) / span_y * (HEIGHT - 2 * MARGIN),
        ]
        for key, (x, y) in layout.items()
    }
    _separate(placed, radius)

    def at(key: str) -> tuple[float, float]:
        return placed[key][0], placed[key][1]

    body = [
        '<defs><marker id="sf-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#777"/></marker></defs>',
        element("rect", x=0, y=0, width=WIDTH, height=HEIGHT, fill="#fff"),
    ]
    types_between: dict[tuple[str, str], list[str]] = {}
    for edge in sorted(set(edges), key=lambda e: (e.src, e.dst, e.type)):
        if edge.src in known and edge.dst in known:
            types_between.setdefault((edge.src, edge.dst), []).append(edge.type)
    # Parallel relationships (owner, manager, ISM manager of one ship) are one line with every type named.
    for (src, dst), types in sorted(types_between.items()):
        (ax, ay), (bx, by) = at(src), at(dst)
        length = math.hypot(bx - ax, by - ay) or 1.0
        ux, uy = (bx - ax) / length, (by - ay) / length
        sx, sy = ax + ux * radius[src], ay + uy * radius[src]
        ex, ey = bx - ux * (radius[dst] + 2), by - uy * (radius[dst] + 2)
        colour, width = REL_LOOKS.get(types[0], ("#A5ABB6", 1))
        label = " / ".join(types)
        body.append(
            element(
                "line",
                title=label,
                x1=sx,
                y1=sy,
                x2=ex,
                y2=ey,
                stroke=colour,
                stroke_width=max(width * 0.7, 0.8),
                marker_end="url(#sf-arrow)",
                class_="sf-rel",
            )
        )
        if len(nodes) <= 40:  # beyond that, type names on every line make the picture unreadable
            body.append(
                text((sx + ex) / 2, (sy + ey) / 2 - 2, label, font_size=7, fill="#888", text_anchor="middle")
            )
    for node in sorted(nodes, key=lambda n: n.key):
        x, y = at(node.key)
        look = look_for(node.label)
        body.append(
            element(
                "circle",
                title=f"{node.label} {node.caption} ({node.key})",
                cx=x,
                cy=y,
                r=radius[node.key],
                fill=look.color,
                stroke=look.border,
                stroke_width=look.border_width * 0.6,
                class_=f"sf-node sf-node-{node.label}",
            )
        )
        caption = node.caption if len(node.caption) <= 22 else node.caption[:21] + "…"
        body.append(
            text(x, y + radius[node.key] + 11, caption, font_size=9, text_anchor="middle", fill="#111")
        )
    return svg(WIDTH, HEIGHT, body, "The subgraph behind the findings", "sf-graph")


def _layout(graph: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Kamada-Kawai (edge lengths follow graph distance, which reads well for chains and stars), started
    from a seeded spring layout so the same case always draws the same way; components side by side."""
    undirected = graph.to_undirected()
    start = nx.spring_layout(undirected, seed=7, k=3.0 / math.sqrt(max(len(graph), 1)), iterations=100)
    if nx.is_connected(undirected) or len(graph) < 3:
        return nx.kamada_kawai_layout(undirected, pos=start)
    # Kamada-Kawai needs finite distances: lay out each component, then put them on a grid.
    layout: dict[str, tuple[float, float]] = {}
    parts = sorted(nx.connected_components(undirected), key=lambda c: (-len(c), min(c)))
    columns = math.ceil(math.sqrt(len(parts)))
    for index, part in enumerate(parts):
        sub = undirected.subgraph(part)
        pos = (
            nx.kamada_kawai_layout(sub, pos={k: start[k] for k in part})
            if len(part) > 2
            else {k: (0.3 * i, 0.0) for i, k in enumerate(sorted(part))}
        )
        size = math.sqrt(len(part)) * 0.8
        row, col = divmod(index, columns)
        for key, (x, y) in pos.items():
            layout[key] = (col * 2.5 + x * size, row * 2.5 + y * size)
    return layout


def _separate(placed: dict[str, list[float]], radius: dict[str, float], rounds: int = 60) -> None:
    """Push overlapping circles apart (with room for a caption), keeping them inside the frame."""
    keys = sorted(placed)
    for _ in range(rounds):
        moved = False
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                dx, dy = placed[b][0] - placed[a][0], placed[b][1] - placed[a][1]
                gap = radius[a] + radius[b] + CAPTION_ROOM
                dist = math.hypot(dx, dy)
                if dist >= gap:
                    continue
                if dist == 0:
                    dx, dy, dist = 1.0, 0.0, 1.0
                push = (gap - dist) / 2
                ux, uy = dx / dist * push, dy / dist * push
                placed[a][0] -= ux
                placed[a][1] -= uy
                placed[b][0] += ux
                placed[b][1] += uy
                moved = True
        for key in keys:
            placed[key][0] = min(max(placed[key][0], MARGIN / 2), WIDTH - MARGIN / 2)
            placed[key][1] = min(max(placed[key][1], MARGIN / 2), HEIGHT - MARGIN / 2)
        if not moved:
            break
