import { stringify } from 'yaml';

/** A playbook's document as YAML, as it would be written in playbooks/ (the YAML library loads with this view). */
export default function PlaybookYaml({ document, label }: { document: unknown; label: string }) {
  return <pre className="json code-block" aria-label={label} tabIndex={0}>{stringify(document)}</pre>;
}

