# The three WORKLOAD pages: /cats (11 statements), /big (1 MB, no SQL), /api/cats (JSON).
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape

PARA = ("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
        "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
        "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.</p>")
WORDS = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
         "eiusmod tempor incididunt ut labore et dolore magna aliqua.")
TAIL = "</body></html>"


def _filled(head, target):
    """head + paragraphs + one short paragraph + TAIL, target bytes in all (ASCII)."""
    parts = [head]
    size = len(head)
    while size + len(PARA) + len(TAIL) <= target:
        parts.append(PARA)
        size += len(PARA)
    rest = target - size - len(TAIL)
    if rest > 7:
        parts.append("<p>" + WORDS[: min(rest - 7, len(WORDS))] + "</p>")
    parts.append(TAIL)
    return "".join(parts)


_BIG = None


def cats(request):
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cat")
        count = cur.fetchone()[0]
        rows = []
        for i in range(1, 11):  # N+1 on purpose: one statement per row
            cur.execute("SELECT id, name, age FROM cat WHERE id = %s", [i])
            r = cur.fetchone()
            if r is not None:
                rows.append("<tr><td>%d</td><td>%s</td><td>%d</td></tr>" % (r[0], escape(r[1]), r[2]))
    head = ("<!DOCTYPE html><html><head><title>Cats</title></head><body>"
            "<h1>%d cats</h1><table><tr><th>id</th><th>name</th><th>age</th></tr>%s</table>"
            % (count, "".join(rows)))
    return HttpResponse(_filled(head, 20000))


def big(request):
    # Built per request like the C demo does.
    head = "<!DOCTYPE html><html><head><title>Big</title></head><body><h1>Big page</h1>"
    return HttpResponse(_filled(head, 1000000))


def api_cats(request):
    out = []
    with connection.cursor() as cur:
        for i in range(1, 11):
            cur.execute("SELECT id, name, age FROM cat WHERE id = %s", [i])
            r = cur.fetchone()
            if r is not None:
                out.append({"id": r[0], "name": r[1], "age": r[2]})
    return JsonResponse(out, safe=False)
