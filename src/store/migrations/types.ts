/**
 * A migration is a name and SQL statements run in order inside one transaction. Statements are
 * separate because PGlite's extended protocol takes one statement per query.
 */
export interface Migration {
  name: string;
  statements: string[];
}
