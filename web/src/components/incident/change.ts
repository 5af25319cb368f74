import { useMutation, useQueryClient } from '@tanstack/react-query';

/**
 * A change to an incident: once the API accepts it, the incident (and what lists it) is read
 * again. The audit stream would refresh it too; this makes the writer see it without waiting.
 */
export function useIncidentChange<V, R>(change: (variables: V) => Promise<R>, onDone?: (result: R) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: change,
    onSuccess: async (result) => {
      onDone?.(result);
      await Promise.all([queryClient.invalidateQueries({ queryKey: ['incidents'] }), queryClient.invalidateQueries({ queryKey: ['actions'] })]);
    },
  });
}
