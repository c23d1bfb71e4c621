// app/api/admin/backup/route.ts - example: the admin page's backup API, forwarding
// to `qbackup serve` on the host.  Status codes pass through unchanged.
//
//   GET                      -> GET /backups            (the listing)
//   POST {"type": "all"}     -> POST /backup            (runs one, answers when done)
//   DELETE ?file=NAME        -> DELETE /backups?file=NAME
//
// Environment: BACKUP_SERVER_URL (default http://host.docker.internal:9999) and
// BACKUP_SERVER_TOKEN.  Check that the caller is an admin where marked.
//
// Migrating from backup-server.py: BACKUP_SERVER_URL is now the server's base URL.
// The old value http://host.docker.internal:9999/backup must lose its "/backup"
// (else every call goes to /backup/backups, /backup/backup, ... and gets 404).
import { NextRequest, NextResponse } from "next/server";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const BASE = (process.env.BACKUP_SERVER_URL ?? "http://host.docker.internal:9999").replace(/\/+$/, "");
const TOKEN = process.env.BACKUP_SERVER_TOKEN ?? "";
const TYPES = ["all", "db", "minio", "code"] as const;
type BackupType = (typeof TYPES)[number];

async function forward(path: string, init: RequestInit, timeoutMs: number): Promise<NextResponse> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (TOKEN) headers.Authorization = `Bearer ${TOKEN}`;
  if (init.body) headers["Content-Type"] = "application/json";
  try {
    const res = await fetch(`${BASE}${path}`, {
      ...init,
      headers,
      cache: "no-store",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body: unknown = await res.json().catch(() => ({ error: `backup server answered ${res.status}` }));
    return NextResponse.json(body, { status: res.status });
  } catch (e) {
    return NextResponse.json({ error: `backup server unreachable: ${(e as Error).message}` }, { status: 502 });
  }
}

export async function GET(): Promise<NextResponse> {
  // requireAdmin(): your session check goes here (and in POST and DELETE).
  return forward("/backups", { method: "GET" }, 30_000);
}

export async function POST(req: NextRequest): Promise<NextResponse> {
  const body = (await req.json().catch(() => ({}))) as { type?: unknown };
  const type = body.type ?? "all";
  if (typeof type !== "string" || !TYPES.includes(type as BackupType)) {
    return NextResponse.json({ error: "type must be all, db, minio or code" }, { status: 400 });
  }
  // The answer comes when the backup ends.  Node's fetch gives up on headers after
  // 300 s: for longer runs post to /backup?async=1 (202) and poll GET /backup/status.
  return forward("/backup", { method: "POST", body: JSON.stringify({ type }) }, 290_000);
}

export async function DELETE(req: NextRequest): Promise<NextResponse> {
  const file = req.nextUrl.searchParams.get("file");
  if (!file) {
    return NextResponse.json({ error: "file is required" }, { status: 400 });
  }
  return forward(`/backups?file=${encodeURIComponent(file)}`, { method: "DELETE" }, 30_000);
}
