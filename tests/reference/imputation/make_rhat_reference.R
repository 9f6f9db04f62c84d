# Reference values of the convergence diagnostics (posterior::rhat, ess_bulk, ess_tail) for
# tests/multilevel/test_ml_imputation.py. Run: Rscript make_rhat_reference.R
# Three parameters, 3 chains x 300 draws: AR(1) chains (phi = 0.8), the same with the third
# chain shifted by 1 (not converged), and skewed draws (exp of an AR(1)).
if (dir.exists("tests/reference/imputation")) setwd("tests/reference/imputation")  # run from the repository root or here
suppressPackageStartupMessages(library(posterior))
set.seed(99)
ar <- function(n, phi) as.numeric(arima.sim(list(ar = phi), n = n))
draws <- array(NA_real_, c(300, 3, 3))  # iteration x chain x parameter
for (ch in 1:3) {
  draws[, ch, 1] <- ar(300, 0.8)
  draws[, ch, 2] <- ar(300, 0.8) + (ch == 3)
  draws[, ch, 3] <- exp(ar(300, 0.5))
}
long <- data.frame(chain = rep(rep(1:3, each = 300), 3), draw = rep(1:300, 9),
                   parameter = rep(1:3, each = 900), value = as.vector(draws))
write.csv(long, "rhat_draws.csv", row.names = FALSE)
out <- data.frame(parameter = 1:3,
                  rhat = sapply(1:3, function(j) rhat(draws[, , j])),
                  ess_bulk = sapply(1:3, function(j) ess_bulk(draws[, , j])),
                  ess_tail = sapply(1:3, function(j) ess_tail(draws[, , j])))
write.csv(out, "rhat_reference.csv", row.names = FALSE)
print(out)
cat(sprintf("posterior %s\n", packageVersion("posterior")))
