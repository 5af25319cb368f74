import type { Actor } from '../domain/roles.js';
import type { Db, Executor } from '../store/db.js';
import { recordIncidentChange } from './store.js';

export interface RoutedTask {
  /** Stable: routing the same task again (a retried step) keeps the first. */
  id: string;
  incidentId: string;
  team: string | null;
  kind: string;
  title: string;
  detail: string;
  /** Who made it: `action:<run id>`, `checklist`, `token:<id>`. */
  source: string;
}

/** Creates a task for a team in an incident, once; audited and on the timeline. */
export async function routeTask(db: Db, task: RoutedTask, actor: Actor): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const created = await tx.insertInto('incidentTasks').values({ ...task })
      .onConflict((oc) => oc.column('id').doNothing()).returning('id').executeTakeFirst();
    if (!created) return;
    await recordIncidentChange(tx, task.incidentId, actor, {
      kind: 'task.created', audit: 'incident.task_created', ref: `task:${task.id}`,
      summary: `Task for ${task.team ?? 'nobody yet'}: ${task.title}`, data: { taskId: task.id, team: task.team, kind: task.kind },
    });
  });
}

export async function taskExists(db: Executor, id: string): Promise<boolean> {
  return !!(await db.selectFrom('incidentTasks').select('id').where('id', '=', id).executeTakeFirst());
}
