/* vidi_eval_comm over MPI (see eval_mpi.h). Only the main thread calls MPI
 * (decoder threads never do), so MPI_THREAD_FUNNELED is enough. */
#include "pipeline/eval_mpi.h"

#include <stdlib.h>
#include <string.h>

#ifdef VIDI_HAVE_MPI
#include <mpi.h>
#endif

/* Ranks announced by the launcher's environment; 0 when not launched. */
static int launched_world(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 0) return atoi(v);
    }
    return getenv("PMIX_RANK") || getenv("PMI_RANK") ? 1 : 0;
}

#ifdef VIDI_HAVE_MPI
int vidi_eval_mpi_built(void) { return 1; }

static vidi_status mpi_gather(void *ctx, const char *data, size_t len, char **all, size_t *all_len) {
    (void)ctx;
    int rank, world;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    *all = NULL, *all_len = 0;
    if (len > (size_t)1 << 30) return vidi_set_error(VIDI_ERR_ARG, "rank %d: %zu bytes of results is too many to gather", rank, len);
    int n = (int)len, *counts = NULL, *displs = NULL;
    if (rank == 0 && (!(counts = malloc(sizeof *counts * (size_t)world)) || !(displs = malloc(sizeof *displs * (size_t)world)))) {
        free(counts);
        MPI_Abort(MPI_COMM_WORLD, 1); /* a collective cannot be left half-done */
    }
    MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    long long total = 0;
    for (int r = 0; rank == 0 && r < world; r++) displs[r] = (int)total, total += counts[r];
    if (rank == 0 && (total > INT32_MAX || !(*all = malloc((size_t)total + 1)))) MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Gatherv(data, n, MPI_CHAR, *all, counts, displs, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (rank == 0) (*all)[total] = '\0', *all_len = (size_t)total;
    free(counts);
    free(displs);
    return VIDI_OK;
}

static int mpi_all_ok(void *ctx, int ok) {
    (void)ctx;
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}

vidi_status vidi_eval_mpi_start(int *argc, char ***argv, vidi_eval_comm *comm) {
    *comm = vidi_eval_comm_single();
    if (!launched_world()) return VIDI_OK;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return vidi_set_error(VIDI_ERR_IO, "MPI_Init failed");
    MPI_Comm_rank(MPI_COMM_WORLD, &comm->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &comm->world);
    comm->ctx = comm; /* marks "MPI initialised" for stop */
    comm->gather = mpi_gather;
    comm->all_ok = mpi_all_ok;
    return VIDI_OK;
}

void vidi_eval_mpi_stop(vidi_eval_comm *comm) {
    if (comm->ctx) MPI_Finalize();
    comm->ctx = NULL;
}
#else
int vidi_eval_mpi_built(void) { return 0; }

vidi_status vidi_eval_mpi_start(int *argc, char ***argv, vidi_eval_comm *comm) {
    (void)argc, (void)argv;
    *comm = vidi_eval_comm_single();
    int world = launched_world();
    if (world > 1)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED,
                              "launched as %d MPI ranks, but this vidi was built without MPI (configure with "
                              "-DVIDI_MPI=ON and libopenmpi-dev installed)",
                              world);
    return VIDI_OK;
}

void vidi_eval_mpi_stop(vidi_eval_comm *comm) { (void)comm; }
#endif
