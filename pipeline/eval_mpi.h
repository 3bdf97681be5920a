/* MPI scale-out for `vidi eval`: a vidi_eval_comm over MPI_COMM_WORLD.
 * Compiled into the vidi executable (not libvidi), with MPI when the build
 * has VIDI_MPI, as a single-process stand-in otherwise. */
#ifndef VIDI_PIPELINE_EVAL_MPI_H
#define VIDI_PIPELINE_EVAL_MPI_H

#include "pipeline/eval_session.h"

/* 1 when this vidi was built with MPI. */
int vidi_eval_mpi_built(void);

/* Under an MPI launcher (mpirun, mpiexec, srun: recognised by the
 * environment it sets) initialises MPI and makes comm span every rank;
 * otherwise comm is the single-process one and MPI is not touched, so a
 * plain `vidi eval` needs no launcher. A launch with several ranks in a
 * build without MPI is an error (each rank would do the whole job). */
vidi_status vidi_eval_mpi_start(int *argc, char ***argv, vidi_eval_comm *comm);
/* Finalises MPI if start initialised it. */
void vidi_eval_mpi_stop(vidi_eval_comm *comm);

#endif
